-- wrk script: POST a minimal chat-style message as JSON (used for hookd's message hook and,
-- with the same body, for adnanh/webhook's fire-and-forget hook).
wrk.method = "POST"
wrk.body = '{"content":"hi"}'
wrk.headers["Content-Type"] = "application/json"
