"""Log a test client in as someone, second factor included where the user needs one."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from sos_tracker.permissions import two_factor_required


def log_in(client, user):
    """force_login, then mark the session verified as django_otp.login does after a code.

    Leads, staff and superusers get a confirmed TOTP device (their own if they have one),
    so the tests written before two-factor sign-in keep testing what they tested; anyone
    with a device of their own is verified with it.
    """
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    # One who enrolled owes the code too (login() marked the session), required or not.
    if device or two_factor_required(user):
        device = device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
