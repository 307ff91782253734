from django.contrib import admin
from django.forms.utils import pretty_name
from django.utils.text import capfirst
from django.utils.translation import gettext


class RecordAdmin(admin.ModelAdmin):
    """A trail the app writes (phase decisions, exports): shown, never added, edited or
    deleted in the admin, so it stays a true record."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LabelledInline:
    """An inline whose every input has a name of its own: "Check-in 2: Date".

    A tabular inline shows its inputs under column headers, with no <label> each, so a
    screen reader announces a bare "combo box" (axe: label, select-name). Mixed into every
    inline of ours (tests/test_admin_labels.py checks that), before the admin's class.
    """

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        noun = capfirst(self.model._meta.verbose_name)

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                if index is None:  # the blank row the "Add another" link copies
                    row = gettext("New %(noun)s") % {"noun": self.model._meta.verbose_name}
                else:
                    row = gettext("%(noun)s %(number)s") % {"noun": noun, "number": index + 1}
                for field_name, field in form.fields.items():
                    widget = field.widget
                    # The admin's wrapper (the add and change links) shares its attrs with
                    # the form class; the widget it draws is its own copy.
                    while hasattr(widget, "widget"):
                        widget = widget.widget
                    if not widget.is_hidden:
                        column = field.label or pretty_name(field_name)
                        widget.attrs["aria-label"] = gettext("%(row)s: %(column)s") % {
                            "row": row,
                            "column": column,
                        }

        return LabelledFormSet
