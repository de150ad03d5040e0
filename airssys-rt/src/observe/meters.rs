//! Metrics, through the `metrics` facade (feature `metrics`): names and labels as the crate docs'
//! table gives them.

#[cfg(not(feature = "metrics"))]
pub(crate) use off::*;
#[cfg(feature = "metrics")]
pub(crate) use on::*;

#[cfg(feature = "metrics")]
mod on {
    use std::time::Instant;

    use metrics::{Counter, Gauge, Histogram, Label};

    use crate::actor::ActorId;
    use crate::core::dead_letter::DeadLetterReason;

    pub(crate) const SENT: &str = "airssys_messages_sent_total";
    pub(crate) const REFUSED: &str = "airssys_messages_refused_total";
    pub(crate) const HANDLED: &str = "airssys_messages_handled_total";
    pub(crate) const DEAD_LETTERED: &str = "airssys_messages_dead_lettered_total";
    pub(crate) const HANDLER_TIME: &str = "airssys_handler_duration_seconds";
    pub(crate) const MAILBOX_WAIT: &str = "airssys_mailbox_wait_seconds";
    pub(crate) const MAILBOX_DEPTH: &str = "airssys_mailbox_depth";
    pub(crate) const LIVE: &str = "airssys_actors_live";
    pub(crate) const RESTARTS: &str = "airssys_restarts_total";
    pub(crate) const ESCALATIONS: &str = "airssys_escalations_total";

    /// `actor_type` (without module paths), and `actor_name` where the actor has one.
    fn labels(id: &ActorId) -> Vec<Label> {
        let mut labels = vec![Label::new("actor_type", id.short_type_name())];
        if let Some(name) = id.name() {
            labels.push(Label::new("actor_name", name.to_owned()));
        }
        labels
    }

    /// One actor's metric handles, registered once at spawn: what each message updates.
    pub(crate) struct ActorMeters {
        sent: Counter,
        refused_full: Counter,
        refused_stopped: Counter,
        handled: Counter,
        handler_time: Histogram,
        wait: Histogram,
        depth: Gauge,
        live: Gauge,
    }

    impl ActorMeters {
        /// Registers the actor's metrics, and counts it live.
        pub(crate) fn new(id: &ActorId) -> Meters {
            let labels = labels(id);
            let refused = |reason: &'static str| {
                let mut labels = labels.clone();
                labels.push(Label::new("reason", reason));
                metrics::counter!(REFUSED, labels)
            };
            // `actor_type` alone: live actors are counted per type.
            let live_labels = labels[..1].to_vec();
            let meters = ActorMeters {
                sent: metrics::counter!(SENT, labels.clone()),
                refused_full: refused("full"),
                refused_stopped: refused("stopped"),
                handled: metrics::counter!(HANDLED, labels.clone()),
                handler_time: metrics::histogram!(HANDLER_TIME, labels.clone()),
                wait: metrics::histogram!(MAILBOX_WAIT, labels.clone()),
                depth: metrics::gauge!(MAILBOX_DEPTH, labels),
                live: metrics::gauge!(LIVE, live_labels),
            };
            meters.live.increment(1.0);
            Box::new(meters)
        }

        /// A message was accepted into the mailbox.
        #[inline]
        pub(crate) fn sent(&self) {
            self.sent.increment(1);
        }

        /// A message was given back to its sender: the mailbox was `full`, or the actor stopped.
        #[inline]
        pub(crate) fn refused(&self, full: bool) {
            if full {
                self.refused_full.increment(1);
            } else {
                self.refused_stopped.increment(1);
            }
        }

        /// A handler begins: how long its message waited since it was sent.
        #[inline]
        pub(crate) fn begin(&self, sent_at: Instant) -> Instant {
            let now = Instant::now();
            self.wait.record(now.saturating_duration_since(sent_at));
            now
        }

        /// A handler has ended (however: a panic is handled too), `depth()` messages wait behind it.
        #[inline]
        pub(crate) fn end(&self, began: Instant, depth: impl FnOnce() -> usize) {
            self.handled.increment(1);
            self.handler_time.record(began.elapsed());
            self.depth.set(depth() as f64);
        }

        /// The actor stopped for good.
        pub(crate) fn left(&self) {
            self.live.decrement(1.0);
            self.depth.set(0.0);
        }
    }

    /// Where a mailbox keeps its actor's handles: boxed, one pointer in the cell.
    pub(crate) type Meters = Box<ActorMeters>;

    /// When a message is sent: its mailbox wait starts.
    pub(crate) type SentAt = Instant;

    #[inline]
    pub(crate) fn sent_at() -> SentAt {
        Instant::now()
    }

    /// A message to `target` became a dead letter.
    pub(crate) fn dead_lettered(target: &ActorId, reason: &DeadLetterReason) {
        let mut labels = labels(target);
        let reason = match reason {
            DeadLetterReason::Stopped(_) => "stopped",
            DeadLetterReason::MailboxFull => "mailbox_full",
            DeadLetterReason::Closed => "closed",
            DeadLetterReason::SendCancelled => "send_cancelled",
        };
        labels.push(Label::new("reason", reason));
        metrics::counter!(DEAD_LETTERED, labels).increment(1);
    }

    /// A supervisor restarted `child`.
    pub(crate) fn restarted(child: &ActorId) {
        metrics::counter!(RESTARTS, labels(child)).increment(1);
    }

    /// The supervisor `supervisor` escalated a child's failure.
    pub(crate) fn escalated(supervisor: &ActorId) {
        metrics::counter!(ESCALATIONS, labels(supervisor)).increment(1);
    }
}

/// The same API with the feature off: nothing, compiled out.
#[cfg(not(feature = "metrics"))]
mod off {
    use crate::actor::ActorId;
    use crate::core::dead_letter::DeadLetterReason;

    pub(crate) struct ActorMeters;

    pub(crate) type Meters = ActorMeters;

    impl ActorMeters {
        #[inline(always)]
        pub(crate) fn new(_: &ActorId) -> Meters {
            ActorMeters
        }

        #[inline(always)]
        pub(crate) fn sent(&self) {}

        #[inline(always)]
        pub(crate) fn refused(&self, _: bool) {}

        #[inline(always)]
        pub(crate) fn begin(&self, _: SentAt) -> SentAt {
            SentAt
        }

        #[inline(always)]
        pub(crate) fn end(&self, _: SentAt, _: impl FnOnce() -> usize) {}

        #[inline(always)]
        pub(crate) fn left(&self) {}
    }

    #[derive(Clone, Copy)]
    pub(crate) struct SentAt;

    #[inline(always)]
    pub(crate) fn sent_at() -> SentAt {
        SentAt
    }

    #[inline(always)]
    pub(crate) fn dead_lettered(_: &ActorId, _: &DeadLetterReason) {}

    #[inline(always)]
    pub(crate) fn restarted(_: &ActorId) {}

    #[inline(always)]
    pub(crate) fn escalated(_: &ActorId) {}
}
