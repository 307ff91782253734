from django import forms

from sos_tracker import two_factor


class CodeForm(forms.Form):
    """One six-digit code from the authenticator app, checked against `device`."""

    code = forms.CharField(
        label="6-digit code",
        max_length=12,
        help_text="From the authenticator app on your phone. It changes every 30 seconds.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
    )

    def __init__(self, *args, device, user, **kwargs):
        kwargs.setdefault("label_suffix", "")  # as the other forms: "Name", not "Name:"
        super().__init__(*args, **kwargs)
        self.device = device
        self.user = user

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        allowed, _ = self.device.verify_is_allowed()
        if not allowed:
            raise forms.ValidationError(
                "Too many wrong codes in a row. Wait a minute, then try the newest code."
            )
        if not two_factor.check_code(self.device, self.user, code):
            raise forms.ValidationError(
                "That code is wrong or has expired. Check that your phone's clock is right "
                "and enter the newest code."
            )
        return code
