"""HTTP: the JSON API and the French server-rendered pages (one blueprint per module), who is calling, CSRF,
CORS, rate limits, the thread cache, request bodies, the OpenAPI document."""
