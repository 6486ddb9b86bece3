"""Email: ``services.send_email`` renders and queues one (SMTP or the in-app outbox), ``tasks``
deliver it after commit; the outbox pages for programme admins."""
