"""Partner webhooks: subscriptions, a durable outbox written in the same transaction as the event, and signed
at-least-once delivery by the worker."""
