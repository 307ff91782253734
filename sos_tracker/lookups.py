"""`field__in=[...]` on an integer column ignores values the column cannot hold.

Django answers `pk=99999999999999999999` with "no rows" (its IntegerFieldOverflow on
exact, gt, gte, lt and lte), but not `pk__in=[...]`: SQLite raises OverflowError ("Python
int too large to convert to SQLite INTEGER") as the query runs. Forms that take several ids
(ModelMultipleChoiceField: a person's sectors, a core's members) and the admin's
autocomplete and actions all filter with `pk__in` on what was posted, so a tampered id was
a server error instead of "not one of the choices". Registered in SosTrackerConfig.ready().

holds(field, value) says beforehand whether a posted value can be looked up at all.
"""

from django.core.exceptions import ValidationError
from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class IntegerFieldIn(In):
    """In, without the integers outside the column's range (none left: matches nothing)."""

    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(
                self.lhs.output_field.get_internal_type()
            )
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)


# Raised by a field's to_python() or a lookup's preparation for a value it cannot take.
BAD_VALUE = (ValueError, TypeError, OverflowError, ValidationError)


def holds(field, value) -> bool:
    """True when model `field` can take `value` (as posted) in a query.

    Integer fields also refuse values past their 64-bit range.
    """
    try:
        python_value = field.get_prep_value(field.to_python(value))
    except BAD_VALUE:
        return False
    if isinstance(python_value, int):
        return -(2**63) <= python_value < 2**63
    return True
