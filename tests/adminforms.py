"""Read an admin add/change page the way a browser would, to post it back changed."""

from django.forms import (
    CheckboxInput,
    ModelMultipleChoiceField,
    MultipleChoiceField,
    MultiWidget,
)


def changeform_data(response, **changes):
    """The POST data of the admin form in `response` as rendered, with `changes` applied.

    Covers the main form and every inline formset (management forms included), so a
    test posts what a person would after editing only the fields it names.
    """
    admin_form = response.context["adminform"].form
    forms = [admin_form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for bound in form:
            posted = _posted(bound)
            data.update(posted)
            if bound.field.show_hidden_initial:
                # A field with a callable default carries the value shown in a hidden
                # input too, which the browser posts back: without it, it seems changed.
                data[bound.html_initial_name] = posted[bound.html_name]
    data.update(changes)
    return data


def _posted(bound):
    widget = bound.field.widget
    value = bound.value()
    if isinstance(widget, CheckboxInput):
        return {bound.html_name: "on"} if value else {}
    if isinstance(widget, MultiWidget):
        parts = widget.decompress(value)
        return {f"{bound.html_name}_{i}": "" if p is None else str(p) for i, p in enumerate(parts)}
    if isinstance(bound.field, MultipleChoiceField | ModelMultipleChoiceField):
        return {bound.html_name: [str(v) for v in value or ()]}
    if value is None:
        return {bound.html_name: ""}
    if isinstance(value, list | tuple):
        return {bound.html_name: [str(v) for v in value]}
    return {bound.html_name: str(value)}
