"""Alert delivery: webhooks (signed), Slack-compatible incoming webhooks, e-mail, digests.

Each channel is its own Celery task on the ``alerts`` queue, retried with exponential
backoff; every attempt is written to the events' ``delivery.<channel>`` fields
(status pending → delivered, or retrying → failed after MEDIAMON_ALERT_MAX_ATTEMPTS).

Exactly once to the receiver: routing is at least once (workers/alerts/outbox.py), so
before it sends, a delivery claims each (event, channel) in Redis (SET NX, valued with
its task id, which a retry of the same task keeps). An event claimed by another task,
or delivered already, is left out; a claim expires if its task died while sending.

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
from html import escape
from typing import Any

from celery import Task

from pipelines.alertevents import spike_numbers
from pipelines.alertmessages import one_line, slack_escape, slack_link
from workers import faults, services
from workers.alerts.rules import AlertRule, Rules
from workers.app import app, settings
from workers.fetching.http import FetchError
from workers.search.client import SearchClient, SearchError

log = logging.getLogger(__name__)
# A claim outlives any retry schedule of one task (6 attempts doubling from 2 s); after
# it expires, the outbox sweeper's re-queued delivery may send an event whose first task
# died mid-send.
CLAIM_TTL = 3600
DELIVERED_TTL = 30 * 86_400


def rules() -> Rules:
    return Rules(services.search_client(), services.state())


def digest_key(rule_id: str) -> str:
    return services.state().key("alerts", "digest", rule_id)


def digest_due_key() -> str:
    return services.state().key("alerts", "digest-due")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@app.task(name="mediamon.send_digests", ignore_result=True)
def send_digests() -> int:
    """Beat's tick: send every digest whose period has ended."""
    redis, due_key = services.state().redis, digest_due_key()
    sent = 0
    due: list[str] = redis.zrangebyscore(due_key, "-inf", time.time())  # type: ignore[assignment]
    for rule_id in due:
        if not redis.zrem(due_key, rule_id):
            continue  # another scheduler took it
        pipe = redis.pipeline()
        pipe.lrange(digest_key(rule_id), 0, -1)
        pipe.delete(digest_key(rule_id))
        ids = list(dict.fromkeys(pipe.execute()[0]))  # an event routed twice is sent once
        rule = rules().get(str(rule_id))
        if not ids or rule is None:
            continue
        digest_id = uuid.uuid4().hex[:16]
        _update(services.search_client(), ids, {"digest_id": digest_id})
        for channel in rule.channels():
            DELIVER[channel].delay(rule.id, ids, digest_id)
        sent += 1
    return sent


# ------------------------------------------------------------------ payloads
def _events(ids: list[str]) -> list[dict[str, Any]]:
    client = services.search_client()
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
                    "kind",
                    "spike",
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
    if event.get("kind") == "spike":
        return f"{event.get('title')} — {spike_numbers(event)}"
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

    def backoff(self, exc: BaseException) -> Exception:
        """Try again later: the base delay, doubling with each attempt."""
        countdown = settings.alert_retry_base * 2**self.request.retries
        return self.retry(countdown=countdown, exc=exc)

    def attempt(self, rule_id: str, ids: list[str], digest_id: str | None, send: Any) -> str:
        attempt = self.request.retries + 1
        try:
            if faults.fires("rule_lookup_fails"):
                raise SearchError("fault point rule_lookup_fails", status=503)
            rule = rules().get(rule_id)
        except SearchError as exc:
            if not exc.transient:
                raise
            raise self.backoff(exc) from exc
        if rule is None:
            return "rule deleted"
        ids = self.claim(ids)
        if not ids:
            return "claimed by another delivery, or delivered"
        events = _events(ids)
        if not events:
            return "no events"
        try:
            send(rule, events, digest_id)
        except (FetchError, OSError, smtplib.SMTPException, Undeliverable, ValueError) as exc:
            reason = exc.reason if isinstance(exc, FetchError) else f"{type(exc).__name__}: {exc}"
            permanent = isinstance(exc, Undeliverable | ValueError) or (
                isinstance(exc, FetchError)
                and exc.kind in ("refused", "permanent")
                and exc.status not in (408, 425)
            )
            final = permanent or attempt >= settings.alert_max_attempts
            _update(
                services.search_client(),
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
            services.state().count(
                **{f"alerts_{self.channel}_{'failed' if final else 'retried'}": 1}
            )
            if final:
                log.error(
                    "alert delivery failed",
                    extra={"rule": rule_id, "channel": self.channel, "reason": reason},
                )
                return f"failed: {reason}"
            raise self.backoff(exc) from exc
        _update(
            services.search_client(),
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
        services.state().count(**{f"alerts_{self.channel}_delivered": 1})
        redis = services.state().redis
        pipe = redis.pipeline(transaction=False)
        for event_id in ids:
            pipe.set(self._claim_key(event_id), "delivered", ex=DELIVERED_TTL)
        pipe.execute()
        return "delivered"

    def _claim_key(self, event_id: str) -> str:
        return services.state().key("alerts", "sent", self.channel, event_id)

    def claim(self, ids: list[str]) -> list[str]:
        """The events this task may send: those it claims now or claimed in an earlier
        try; not those another task holds or that were delivered."""
        token = self.request.id or "local"
        redis = services.state().redis
        pipe = redis.pipeline(transaction=False)
        for event_id in ids:
            pipe.set(self._claim_key(event_id), token, nx=True, ex=CLAIM_TTL)
        took = pipe.execute()
        holders = redis.mget([self._claim_key(e) for e, t in zip(ids, took, strict=True) if not t])
        held = iter(holders)
        return [e for e, t in zip(ids, took, strict=True) if t or next(held) == token]


def _update(client: SearchClient, ids: list[str], partial: dict[str, Any]) -> None:
    operations: list[dict[str, Any]] = []
    alias = client.index_name("alert-events")
    for event_id in ids:
        operations += [{"update": {"_index": alias, "_id": event_id}}, {"doc": partial}]
    client.bulk(operations)


class Undeliverable(Exception):
    """The rule's channel cannot be used as configured (no URL, no signing key)."""


def _url(rule: AlertRule, channel: str) -> str:
    url = rules().channel_url(rule.id, channel)
    if not url:
        raise Undeliverable(f"the rule has no {channel} URL; set one with `alerts edit`")
    return url


def _send_webhook(rule: AlertRule, events: list[dict[str, Any]], digest_id: str | None) -> None:
    secret = rules().secret(rule.id)
    if not secret:  # never sent unsigned, nor signed with an empty key
        raise Undeliverable(
            f"the rule has no signing secret; `mediamon alerts edit {rule.id} --webhook URL` makes one"
        )
    body = json.dumps(_payload(rule, events, digest_id), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    services.fetcher().post(
        _url(rule, "webhook"),
        body,
        headers={
            "Content-Type": "application/json",
            "X-Mediamon-Timestamp": timestamp,
            "X-Mediamon-Signature": sign(secret, timestamp, body),
            "X-Mediamon-Rule": rule.id,
        },
    )


def _send_slack(rule: AlertRule, events: list[dict[str, Any]], digest_id: str | None) -> None:
    name = slack_escape(one_line(rule.name))
    head = f"*{name}*: {len(events)} new article(s)" if digest_id else f"*{name}*"
    lines = [
        (
            f"• {slack_escape(one_line(e.get('title') or ''))}\n  `{slack_escape(spike_numbers(e))}`"
            if e.get("kind") == "spike"
            else (
                f"• {slack_link(e['url'], e.get('title') or e['url'])}"
                if e.get("url")
                else f"• {slack_escape(one_line(e.get('title') or ''))}"
            )
            + f" ({slack_escape(one_line(e.get('source') or '-'))})"
        )
        for e in events[:20]
    ]
    message = {
        "text": head + "\n" + "\n".join(lines),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": head + "\n" + "\n".join(lines)}}
        ],
    }
    services.fetcher().post(
        _url(rule, "slack"),
        json.dumps(message, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )


def _send_email(rule: AlertRule, events: list[dict[str, Any]], digest_id: str | None) -> None:
    message = EmailMessage()
    message["Subject"] = one_line(
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
            f"<li>{escape(_line(e))}</li>"
            if e.get("kind") == "spike"
            else f'<li><a href="{escape(e.get("url") or "")}">{escape(e.get("title") or e.get("url") or "")}</a>'
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
