"""The deliver stage: email sent exactly once (sent ledger, SMTP, outbox) and webhooks.

`core` sends a digest and writes the ledger, `smtp` is the transport, `spool` the on-disk
format of what did not go, `outbox` the flush that sends it later, `webhooks` the JSON channel.
"""

from agent.deliver.core import DeliveryReport, SpooledDelivery, deliver
from agent.deliver.outbox import FlushReport, flush_outbox

__all__ = ["DeliveryReport", "FlushReport", "SpooledDelivery", "deliver", "flush_outbox"]
