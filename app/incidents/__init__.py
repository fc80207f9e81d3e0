"""Border events (vụ việc): submission, context, lifecycle, history, attachments, queries."""
