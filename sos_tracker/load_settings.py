"""Production settings plus the bare view's URL, for `make load`'s gunicorn only.

Everything else is the production module as the environment sets it (DEBUG off, the
quotas, the access log): the load run measures what production serves. LOAD_STATIC_ROOT
points collectstatic and whitenoise at the load run's own folder, so the run never
writes to the deployment's staticfiles/.
"""

from sos_tracker.settings import *  # noqa: F403
from sos_tracker.settings import env

ROOT_URLCONF = "sos_tracker.bench_urls"
STATIC_ROOT = env.path("LOAD_STATIC_ROOT", default=STATIC_ROOT)  # noqa: F405
