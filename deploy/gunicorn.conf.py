"""gunicorn's settings for the web process (deploy/Procfile; docs/deployment.md).

Every value can be changed from the environment, so one file serves every size of machine.
"""

import multiprocessing
import os

# Behind the reverse proxy on the same machine (deploy/nginx.conf), or a load balancer.
bind = f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Synchronous workers: the pages are short and bounded (fixed query counts); two a core.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"

# A request longer than this is a fault (the slowest page takes well under a second); the
# proxy's read timeout is a little longer, so gunicorn answers first.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5

# Workers are replaced after a while, jittered so they do not all restart together.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10

# The proxy in front sets X-Forwarded-*; Django trusts them only with BEHIND_PROXY=true.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Request headers are bounded; bodies are bounded by the proxy (client_max_body_size).
limit_request_line = 8190
limit_request_fields = 100

accesslog = "-"
errorlog = "-"
# No query strings in the access log: they can carry a member's search terms.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%({x-request-id}o)s"'
