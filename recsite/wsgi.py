"""The WSGI entry point (gunicorn, runserver). Each web process starts loading the active model versions
in the background at once, so no storefront request waits for a load (``SERVING_WARM=false`` skips it)."""
import os

from django.core.wsgi import get_wsgi_application

from recsite.env import envbool

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsite.settings")
application = get_wsgi_application()

if envbool("SERVING_WARM", True):
    from dashboard.services.serving import warm_active_in_background

    warm_active_in_background()
