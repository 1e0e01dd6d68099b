"""kombu's Redis transport with the crash that killed the worker when Redis died fixed.

kombu 5.7: when the broker connection breaks, Celery's consumer first collects the connection (its transport
forgets the client) and then closes it; closing the default channel tries to restore the channel's unacknowledged
messages through a new client built from that forgotten client, and raises
AttributeError("'NoneType' object has no attribute 'hostname'"), which no `ignore_errors` catches: the worker
stopped with "Unrecoverable error". The messages need no restoring then: they stay in Redis's unacked set, and
Redis hands them out again after the visibility timeout. Selected by CELERY_BROKER_TRANSPORT in settings.
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


class Transport(redis.Transport):
    Channel = Channel
