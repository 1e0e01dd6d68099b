"""kombu's Redis transport with the crash that killed the worker when Redis died fixed.

kombu 5.7: when the broker connection breaks, Celery's consumer first collects the connection (its transport
forgets the client) and then closes it; closing the default channel tries to restore the channel's unacknowledged
messages through a new client built from that forgotten client, and raises
AttributeError("'NoneType' object has no attribute 'hostname'"), which no `ignore_errors` catches: the worker
stopped with "Unrecoverable error". The messages need no restoring then: they stay in Redis's unacked set, and
Redis hands them out again after the visibility timeout. Selected by CELERY_BROKER_TRANSPORT in settings.

The same goes for a task that finishes after the connection was lost: its ack (or reject) arrives on the closed
channel, whose connection is gone, and kombu raised AttributeError("'NoneType' object has no attribute 'client'")
there too, stopping the worker just after it had reconnected. Such a message cannot be acknowledged any more; it is
delivered again after the visibility timeout, and every task is idempotent.
"""
import logging

from kombu.transport import redis

logger = logging.getLogger(__name__)


class Channel(redis.Channel):
    def close(self) -> None:
        try:
            super().close()
        except AttributeError:
            if self.connection is not None and self.connection.client is not None:
                raise  # not the known case: a bug to see
            logger.warning("closed a channel of a lost Redis connection; its unacknowledged messages come back "
                           "after the visibility timeout")
            if self.connection is not None:
                self.connection.close_channel(self)

    def basic_ack(self, delivery_tag, multiple: bool = False) -> None:
        if self._lost(delivery_tag, "acknowledged"):
            return
        super().basic_ack(delivery_tag, multiple)

    def basic_reject(self, delivery_tag, requeue: bool = False) -> None:
        if self._lost(delivery_tag, "rejected"):
            return
        super().basic_reject(delivery_tag, requeue)

    def _lost(self, delivery_tag, what: str) -> bool:
        """True for a channel closed with its lost connection: nothing can be sent through it any more."""
        if self.connection is not None:
            return False
        logger.warning("message %s finished after its Redis connection was lost; not %s, it comes back after the "
                       "visibility timeout", delivery_tag, what)
        return True


class Transport(redis.Transport):
    Channel = Channel
