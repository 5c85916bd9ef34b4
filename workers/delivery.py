"""Alert delivery: webhooks (signed), Slack-compatible incoming webhooks, e-mail, digests.

Each channel is its own Celery task on the ``alerts`` queue, retried with exponential
backoff; every attempt is written to the events' ``delivery.<channel>`` fields
(status pending → delivered, or retrying → failed after MEDIAMON_ALERT_MAX_ATTEMPTS).

Webhook signature: the body is JSON; the request carries
``X-Mediamon-Timestamp: <unix seconds>`` and
``X-Mediamon-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the rule's secret>``.
Receivers recompute it and reject old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import lru_cache
from html import escape
from typing import Any

from celery import Task

from workers.alerts import AlertRule, Rules
from workers.app import app, settings
from workers.http import Fetcher, FetchError
from workers.search.client import SearchClient
from workers.tasks import search_client, state

log = logging.getLogger(__name__)
CHANNELS = ("webhook", "slack", "email")


@lru_cache(maxsize=1)
def fetcher() -> Fetcher:
    return Fetcher(settings)


def rules() -> Rules:
    return Rules(search_client(), state())


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def dispatch(events: list[dict[str, Any]]) -> None:
    """Route new events: immediate ones to their channels (or, inside the rule's throttle
    window, into its next digest); digest-mode ones into the rule's digest."""
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_rule.setdefault(event["rule_id"], []).append(event)
    redis, now = state().redis, time.time()
    for rule_id, found in by_rule.items():
        ids = [e["id"] for e in found]
        rule = rules().get(rule_id)
        if rule is None:
            continue
        if rule.mode == "digest":
            _to_digest(rule, ids, due=now + rule.digest_every)
            continue
        if rule.throttle:
            last_key = state().key("alerts", "last", rule_id)
            last = float(redis.get(last_key) or 0)
            if now - last < rule.throttle:
                _to_digest(rule, ids, due=last + rule.throttle)
                continue
            redis.set(last_key, now, ex=rule.throttle * 2)
        for channel in rule.channels():
            DELIVER[channel].delay(rule_id, ids)


def _to_digest(rule: AlertRule, ids: list[str], *, due: float) -> None:
    redis = state().redis
    redis.rpush(state().key("alerts", "digest", rule.id), *ids)
    # NX: the first event of a period sets when the digest goes out
    redis.zadd(state().key("alerts", "digest-due"), {rule.id: due}, nx=True)


@app.task(name="mediamon.send_digests", ignore_result=True)
def send_digests() -> int:
    """Beat's tick: send every digest whose period has ended."""
    redis, due_key = state().redis, state().key("alerts", "digest-due")
    sent = 0
    due: list[str] = redis.zrangebyscore(due_key, "-inf", time.time())  # type: ignore[assignment]
    for rule_id in due:
        if not redis.zrem(due_key, rule_id):
            continue  # another scheduler took it
        pipe = redis.pipeline()
        pipe.lrange(state().key("alerts", "digest", rule_id), 0, -1)
        pipe.delete(state().key("alerts", "digest", rule_id))
        ids = pipe.execute()[0]
        rule = rules().get(str(rule_id))
        if not ids or rule is None:
            continue
        digest_id = uuid.uuid4().hex[:16]
        _update(search_client(), ids, {"digest_id": digest_id})
        for channel in rule.channels():
            DELIVER[channel].delay(rule.id, ids, digest_id)
        sent += 1
    return sent


# ------------------------------------------------------------------ payloads
def _events(ids: list[str]) -> list[dict[str, Any]]:
    client = search_client()
    found = client.request("POST", f"/{client.index_name('alert-events')}/_mget", {"ids": ids})
    return [d["_source"] for d in found.get("docs", []) if d.get("found")]


def _payload(
    rule: AlertRule, events: list[dict[str, Any]], digest_id: str | None
) -> dict[str, Any]:
    return {
        "rule": {"id": rule.id, "name": rule.name, "query": rule.query, "mode": rule.mode},
        "digest_id": digest_id,
        "sent_at": datetime.now(UTC).isoformat(),
        "events": [
            {
                k: e.get(k)
                for k in (
                    "id",
                    "article_id",
                    "story_id",
                    "title",
                    "url",
                    "source",
                    "lang",
                    "published_at",
                    "matched_at",
                    "why",
                )
            }
            for e in events
        ],
    }


def _line(event: dict[str, Any]) -> str:
    why = event.get("why") or {}
    reasons = ", ".join((why.get("terms") or [])[:5] + (why.get("aliases") or [])[:3])
    return (
        f"{event.get('title') or event.get('url')} ({event.get('source') or '-'}) {event.get('url') or ''}"
        + (f" — matched: {reasons}" if reasons else "")
    )


# ------------------------------------------------------------------ tasks
class DeliveryTask(Task):
    abstract = True
    channel = ""

    def attempt(self, rule_id: str, ids: list[str], digest_id: str | None, send: Any) -> str:
        rule = rules().get(rule_id)
        if rule is None:
            return "rule deleted"
        events = _events(ids)
        if not events:
            return "no events"
        attempt = self.request.retries + 1
        try:
            send(rule, events, digest_id)
        except (FetchError, OSError, smtplib.SMTPException) as exc:
            reason = exc.reason if isinstance(exc, FetchError) else f"{type(exc).__name__}: {exc}"
            permanent = (
                isinstance(exc, FetchError)
                and exc.kind in ("refused", "permanent")
                and exc.status not in (408, 425)
            )
            final = permanent or attempt >= settings.alert_max_attempts
            _update(
                search_client(),
                ids,
                {
                    "delivery": {
                        self.channel: {
                            "status": "failed" if final else "retrying",
                            "attempts": attempt,
                            "last_error": reason[:2000],
                        }
                    }
                },
            )
            state().count(**{f"alerts_{self.channel}_{'failed' if final else 'retried'}": 1})
            if final:
                log.error(
                    "alert delivery failed",
                    extra={"rule": rule_id, "channel": self.channel, "reason": reason},
                )
                return f"failed: {reason}"
            raise self.retry(
                countdown=settings.alert_retry_base * 2 ** (attempt - 1), exc=exc
            ) from exc
        _update(
            search_client(),
            ids,
            {
                "delivery": {
                    self.channel: {
                        "status": "delivered",
                        "attempts": attempt,
                        "delivered_at": datetime.now(UTC).isoformat(),
                    }
                }
            },
        )
        state().count(**{f"alerts_{self.channel}_delivered": 1})
        return "delivered"


def _update(client: SearchClient, ids: list[str], partial: dict[str, Any]) -> None:
    operations: list[dict[str, Any]] = []
    alias = client.index_name("alert-events")
    for event_id in ids:
        operations += [{"update": {"_index": alias, "_id": event_id}}, {"doc": partial}]
    client.bulk(operations)


def _send_webhook(rule: AlertRule, events: list[dict[str, Any]], digest_id: str | None) -> None:
    secret = rules().secret(rule.id) or ""
    body = json.dumps(_payload(rule, events, digest_id), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    fetcher().post(
        rule.webhook or "",
        body,
        headers={
            "Content-Type": "application/json",
            "X-Mediamon-Timestamp": timestamp,
            "X-Mediamon-Signature": sign(secret, timestamp, body),
            "X-Mediamon-Rule": rule.id,
        },
    )


def _send_slack(rule: AlertRule, events: list[dict[str, Any]], digest_id: str | None) -> None:
    head = f"*{rule.name}*: {len(events)} new article(s)" if digest_id else f"*{rule.name}*"
    lines = [
        f"• <{e['url']}|{e.get('title') or e['url']}> ({e.get('source') or '-'})"
        if e.get("url")
        else f"• {e.get('title')}"
        for e in events[:20]
    ]
    message = {
        "text": head + "\n" + "\n".join(lines),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": head + "\n" + "\n".join(lines)}}
        ],
    }
    fetcher().post(
        rule.slack or "",
        json.dumps(message, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )


def _send_email(rule: AlertRule, events: list[dict[str, Any]], digest_id: str | None) -> None:
    message = EmailMessage()
    message["Subject"] = (
        f"[mediamon] {rule.name}: {len(events)} new article(s)"
        if digest_id or len(events) > 1
        else f"[mediamon] {rule.name}: {events[0].get('title') or 'new article'}"
    )
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(rule.email)
    message["X-Mediamon-Rule"] = rule.id
    text = f"Rule: {rule.name}\nQuery: {rule.query}\n\n" + "\n".join(
        f"- {_line(e)}" for e in events
    )
    html = (
        f"<p>Rule <b>{escape(rule.name)}</b> (<code>{escape(rule.query)}</code>)</p><ul>"
        + "".join(
            f'<li><a href="{escape(e.get("url") or "")}">{escape(e.get("title") or e.get("url") or "")}</a>'
            f" ({escape(e.get('source') or '-')})"
            + (
                f" — matched: {escape(', '.join((e.get('why') or {}).get('terms') or []))}"
                if (e.get("why") or {}).get("terms")
                else ""
            )
            + "</li>"
            for e in events
        )
        + "</ul>"
    )
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)


@app.task(
    name="mediamon.deliver_webhook",
    base=DeliveryTask,
    bind=True,
    channel="webhook",
    max_retries=None,
    ignore_result=True,
)
def deliver_webhook(
    self: DeliveryTask, rule_id: str, ids: list[str], digest_id: str | None = None
) -> str:
    return self.attempt(rule_id, ids, digest_id, _send_webhook)


@app.task(
    name="mediamon.deliver_slack",
    base=DeliveryTask,
    bind=True,
    channel="slack",
    max_retries=None,
    ignore_result=True,
)
def deliver_slack(
    self: DeliveryTask, rule_id: str, ids: list[str], digest_id: str | None = None
) -> str:
    return self.attempt(rule_id, ids, digest_id, _send_slack)


@app.task(
    name="mediamon.deliver_email",
    base=DeliveryTask,
    bind=True,
    channel="email",
    max_retries=None,
    ignore_result=True,
)
def deliver_email(
    self: DeliveryTask, rule_id: str, ids: list[str], digest_id: str | None = None
) -> str:
    return self.attempt(rule_id, ids, digest_id, _send_email)


DELIVER = {"webhook": deliver_webhook, "slack": deliver_slack, "email": deliver_email}
