# One image for web, workers and beat. The GPU worker runs the same image with an NVIDIA runtime;
# for CUDA kernels install a CUDA build of torch==2.13.0 in a derived image.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VAR_DIR=/var/lib/fusion
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu
COPY . .
RUN DEBUG=true python manage.py collectstatic --noinput -v 0
EXPOSE 8000
CMD ["gunicorn", "recsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
