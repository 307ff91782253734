"""Spanish dates are Django's ("14 de marzo de 2025"); only the input order changes.

Every date field is an `<input type="date">`, which reads and writes ISO dates: with
Django's Spanish "%d/%m/%Y" first, a date already on file would be rendered as 14/03/2025,
which the browser discards, and the next save would lose it.
"""

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]
