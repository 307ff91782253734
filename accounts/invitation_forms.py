"""Forms for user invitations: making one (admin or lead) and accepting one (the invitee)."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.invitations import invitable_cores, split_name
from accounts.models import InvitedRole, UserInvitation


class InvitationForm(forms.ModelForm):
    """E-mail, name, role and core of a new invitation; the core list is the inviter's own.

    Who may invite which role for which core is decided by accounts.invitations
    (create_invitation); this form only offers the inviter's cores and normalises input.
    """

    class Meta:
        model = UserInvitation
        fields = ["email", "name", "role", "core"]
        labels = {
            "name": _("Name"),
            "email": _("E-mail address"),
            "role": _("Role"),
            "core": _("Core"),
        }
        help_texts = {
            "role": _(
                "An organizer finds, adds and edits people; a core lead also leads "
                "the core chosen below (reviews, phases, invitations)."
            ),
            "core": _("The core a lead will lead. For an organizer, the core they will help."),
        }
        widgets = {"role": forms.RadioSelect}

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        cores = invitable_cores(user)
        self.fields["core"].queryset = cores
        self.fields["core"].empty_label = _("(none: an organizer for the whole network)")
        self.fields["role"].choices = InvitedRole.choices
        if not user.is_superuser:
            # A lead always invites for a core they lead; with one core, it is that one.
            self.fields["core"].required = True
            self.fields["core"].empty_label = None
            self.fields["core"].help_text = _(
                "The core you lead that this person will lead or help."
            )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def _post_clean(self):
        # The service builds and checks the row (who may invite, the token, the dates);
        # the model's own validation would ask for fields only it fills in.
        pass


class AcceptInvitationForm(UserCreationForm):
    """A user name and a password twice, checked by the project's password validators.

    The validators compare the password with the invitation's name and e-mail address, so
    the user is built from them before validation (nothing is saved here).
    """

    def __init__(self, *args, invitation: UserInvitation, **kwargs):
        first_name, last_name = split_name(invitation.name)
        kwargs.setdefault("label_suffix", "")
        kwargs["instance"] = get_user_model()(
            email=invitation.email, first_name=first_name, last_name=last_name
        )
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = _(
            "What you will sign in with: letters, digits and @ . + - _ only, up to 150."
        )
