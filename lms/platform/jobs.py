"""Enqueue background work only once the transaction that asked for it has committed.

A task enqueued before commit could run before its data exists, or for a change that was then
rolled back; so services call ``enqueue_after_commit`` and the session sends the task on commit.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.platform.extensions import db

log = logging.getLogger(__name__)
_KEY = "lms.after_commit"


def tasks_run_in_process() -> bool:
    """No broker is configured, so tasks run in this process as they are sent."""
    return bool(current_app.config["CELERY"].get("task_always_eager"))


def enqueue_after_commit(task: Task | str, *args: Any, **kwargs: Any) -> None:
    """Send ``task`` (a task, or a task's registered name) once this transaction commits; the
    same call twice is sent once. A service names the task it needs, so it never imports the
    task module that imports it."""
    pending = db.session().info.setdefault(_KEY, [])
    if (task, args, kwargs) not in pending:
        pending.append((task, args, kwargs))


def registered(task: Task | str) -> Task:
    """The task itself, given the task or its registered name."""
    return current_app.extensions["celery"].tasks[task] if isinstance(task, str) else task


def send(task: Task | str, *args: Any, **kwargs: Any) -> None:
    """Send ``task`` to the broker now, or, with no broker, run it here and now (without the
    broker connection an eager send still opens)."""
    task = registered(task)
    if task.app.conf.task_always_eager:
        task.apply(args=args, kwargs=kwargs)
    else:
        task.apply_async(args=args, kwargs=kwargs)


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_KEY, [])
    for task, args, kwargs in pending:
        try:
            send(task, *args, **kwargs)
        except Exception:  # a lost broker must not undo a committed change
            log.exception("could not enqueue %s; a periodic sweep will pick it up",
                          getattr(task, "name", task))


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_KEY, None)
