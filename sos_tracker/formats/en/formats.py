"""English dates as the app wrote them before it spoke Spanish: "Mar 14, 2025"."""

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, g:i a"
SHORT_DATETIME_FORMAT = "M j, Y H:i"
MONTH_DAY_FORMAT = "M j"
