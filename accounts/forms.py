"""The code forms: a code at sign-in (or a recovery code), the first code of a new device."""

from django import forms
from django.utils.translation import gettext_lazy

from accounts import recovery, two_factor

_CODE_WIDGET_ATTRS = {
    "autocomplete": "one-time-code",
    "autocapitalize": "none",
    "spellcheck": "false",
    "autofocus": True,
    "size": 10,
}


WRONG_CODE = gettext_lazy(
    "That code is wrong or has expired. Check that your phone's clock is right "
    "and enter the newest code."
)


class CodeForm(forms.Form):
    """A code from the user's authenticator, or one of their recovery codes.

    After is_valid(), `self.device` is the device that accepted it (for verify_session).
    Used at sign-in, and to confirm removing the factor or making new recovery codes.
    """

    code = forms.CharField(
        label=gettext_lazy("6-digit code"),
        max_length=20,
        help_text=gettext_lazy(
            "From the authenticator app on your phone; it changes every 30 seconds. "
            "Without your phone, enter one of your recovery codes instead."
        ),
        widget=forms.TextInput(attrs=_CODE_WIDGET_ATTRS),
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("label_suffix", "")  # as the other forms: "Name", not "Name:"
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

    def clean_code(self):
        typed = "".join(self.cleaned_data["code"].split())
        if typed.isdigit() and len(typed) == 6:
            device = two_factor.confirmed_device(self.user)
            code = typed
            wrong = WRONG_CODE
        elif recovery.looks_like_code(recovery.normalise(typed)):
            device = recovery.device_of(self.user)
            code = recovery.normalise(typed)
            wrong = gettext_lazy("That recovery code is wrong or has been used already.")
        else:
            raise forms.ValidationError(
                gettext_lazy(
                    "Enter the 6 digits your authenticator app shows, or a recovery code "
                    "(8 letters and digits)."
                ),
                code="invalid",
            )
        if device is None:
            raise forms.ValidationError(wrong, code="wrong")
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            raise forms.ValidationError(
                gettext_lazy(
                    "Too many wrong codes in a row. Wait a minute, then try the newest code."
                ),
                code="throttled",
            )
        if not two_factor.check_code(device, self.user, code):
            raise forms.ValidationError(wrong, code="wrong")
        self.device = device
        return code


class SetupForm(forms.Form):
    """The first code of the authenticator being set up; its secret rides along, signed.

    Nothing is saved until this form is valid: `self.device` is then the drafted device
    and `self.step` the time step its code matched (for two_factor.add_device).
    """

    code = forms.CharField(
        label=gettext_lazy("6-digit code"),
        max_length=12,
        help_text=gettext_lazy("The code the app shows after you scanned the QR code."),
        widget=forms.TextInput(attrs={**_CODE_WIDGET_ATTRS, "inputmode": "numeric"}),
    )
    secret = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None
        self.step = None

    def draft(self):
        """The device this form sets up: the posted secret's, else a new one, unsaved."""
        signed = self.data.get("secret") if self.is_bound else None
        key = two_factor.unsign_secret(self.user, signed) if signed else None
        if key is None:
            key = two_factor.new_secret()
            signed = two_factor.sign_secret(self.user, key)
        # A wrong code shows the same QR code again, not a new one to scan.
        self.initial["secret"] = signed
        if self.is_bound:
            self.data = self.data.copy()
            self.data["secret"] = signed
        return two_factor.draft_device(self.user, key)

    def clean(self):
        cleaned = super().clean()
        signed = cleaned.get("secret")
        key = two_factor.unsign_secret(self.user, signed) if signed else None
        if key is None:
            # Tampered with or left open too long: the page now shows a new QR code.
            self.add_error(
                "code",
                gettext_lazy(
                    "This set-up page has expired. Scan the new QR code below, then enter "
                    "the code it gives."
                ),
            )
            return cleaned
        code = "".join(cleaned.get("code", "").split())
        if not (code.isdigit() and len(code) == 6):
            self.add_error("code", gettext_lazy("Enter the 6 digits your authenticator app shows."))
            return cleaned
        device = two_factor.draft_device(self.user, key)
        step = two_factor.first_code_step(device, code)
        if step is None:
            self.add_error("code", WRONG_CODE)
            return cleaned
        self.device, self.step = device, step
        return cleaned
