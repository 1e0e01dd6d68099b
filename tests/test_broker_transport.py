"""The Redis transport survives a task that finishes after its broker connection was lost (labeler/broker.py).

kombu 5.7 stopped the worker with AttributeError("'NoneType' object has no attribute 'client'") when the ack of
such a task reached its closed channel; the fault test meets that race only sometimes, so it is pinned here on a
real Redis: a message is fetched, its channel is closed as a lost connection closes it, then it is acknowledged.
"""
import uuid

import pytest
from django.conf import settings
from kombu import Connection

from labeler import broker


@pytest.fixture
def fetched_message():
    name = f"broker-test-{uuid.uuid4().hex}"
    with Connection(settings.CELERY_BROKER_URL, transport=broker.Transport) as connection:
        queue = connection.SimpleQueue(name)
        queue.put({"task": "probe"})
        message = queue.get(timeout=5)
        yield connection, message.channel, message
        connection.SimpleQueue(name).clear()


def unacknowledged_in_redis(channel, delivery_tag: str) -> bool:
    with Connection(settings.CELERY_BROKER_URL) as probe:
        return bool(probe.default_channel.client.hexists(channel.unacked_key, delivery_tag))


def test_a_message_acknowledged_after_its_channel_was_lost_is_left_for_redelivery(fetched_message):
    connection, channel, message = fetched_message
    transport_connection = channel.connection
    # What collecting a lost connection does to its channels: their pools dropped, then detached.
    channel._disconnect_pools()
    connection.transport.close_channel(channel)
    assert channel.connection is None
    message.ack()  # kombu's own channel raised AttributeError here and the worker stopped
    channel.basic_reject(message.delivery_tag)
    assert unacknowledged_in_redis(channel, message.delivery_tag), "the message must stay for redelivery"
    channel.connection = transport_connection  # so the fixture can close the connection as usual


def test_a_message_on_a_live_channel_is_acknowledged_as_usual(fetched_message):
    _, channel, message = fetched_message
    assert unacknowledged_in_redis(channel, message.delivery_tag)
    message.ack()
    assert not unacknowledged_in_redis(channel, message.delivery_tag)
