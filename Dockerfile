# One image for web, workers and beat. The GPU worker runs the same image with an NVIDIA runtime;
# for CUDA kernels install a CUDA build of torch==2.13.0 in a derived image.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VAR_DIR=/var/lib/fusion
# Production defaults: no debug pages, behind a TLS-terminating proxy (secure cookies, HSTS, HTTPS redirect,
# X-Forwarded-Proto trusted). SECRET_KEY has no default: the container refuses to start without a strong one.
# A plain-HTTP trial run sets HTTPS=false.
ENV DEBUG=false HTTPS=true
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu
COPY . .
RUN DEBUG=true HTTPS=false python manage.py collectstatic --noinput -v 0
RUN useradd --system --home /app fusion && mkdir -p /var/lib/fusion && chown fusion /var/lib/fusion
USER fusion
EXPOSE 8000
CMD ["gunicorn", "recsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
