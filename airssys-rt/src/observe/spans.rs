//! Spans and events, through `tracing` (feature `tracing`).

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;
#[cfg(feature = "tracing")]
pub(crate) use on::*;

#[cfg(feature = "tracing")]
mod on {
    use core::future::Future;
    use core::mem::ManuallyDrop;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    use pin_project_lite::pin_project;
    use tracing::{Level, Span, field};

    use crate::actor::{ActorId, ActorPanic, StopReason};
    use crate::supervisor::{SupervisionEvent, SupervisionEventKind};

    /// The span of an incarnation, or of handling a message, or the one a message was sent in: none
    /// when no subscriber records it. Boxed, so that an actor's task and a mailbox slot grow by a
    /// pointer, not by a `Span` (40 bytes); and dropped by hand, so that dropping none costs one
    /// branch, not a call to `Span`'s drop glue (which is what every message would pay).
    pub(crate) struct ActorSpan(ManuallyDrop<Option<Box<Span>>>);

    impl ActorSpan {
        #[inline(always)]
        pub(crate) const fn none() -> Self {
            ActorSpan(ManuallyDrop::new(None))
        }

        #[inline(always)]
        fn get(&self) -> Option<&Span> {
            self.0.as_deref()
        }
    }

    impl Clone for ActorSpan {
        fn clone(&self) -> Self {
            ActorSpan(ManuallyDrop::new((*self.0).clone()))
        }
    }

    impl Drop for ActorSpan {
        #[inline(always)]
        fn drop(&mut self) {
            if self.0.is_some() {
                drop_span(self.0.take());
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn drop_span(span: Option<Box<Span>>) {
        drop(span);
    }

    impl core::fmt::Debug for ActorSpan {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            self.get().fmt(f)
        }
    }

    fn held(span: Span) -> ActorSpan {
        if span.is_disabled() {
            ActorSpan::none()
        } else {
            ActorSpan(ManuallyDrop::new(Some(Box::new(span))))
        }
    }

    /// The target of every span and event: `RUST_LOG=airssys_rt=debug` shows them all.
    pub(crate) const TARGET: &str = "airssys_rt";

    /// Whether any subscriber may record message spans (DEBUG): one relaxed load, and the check
    /// every message pays when none does. The full check (target, callsite) follows when it passes.
    #[inline(always)]
    fn messages_may_be_recorded() -> bool {
        tracing::level_enabled!(Level::DEBUG)
    }

    /// The span a message is sent in, if a subscriber records message spans (else nothing is held).
    #[inline(always)]
    pub(crate) fn cause() -> ActorSpan {
        if messages_may_be_recorded() {
            current_cause()
        } else {
            ActorSpan::none()
        }
    }

    #[cold]
    #[inline(never)]
    fn current_cause() -> ActorSpan {
        if !tracing::enabled!(target: TARGET, Level::DEBUG) {
            return ActorSpan::none();
        }
        held(Span::current())
    }

    /// The span of one incarnation of an actor: everything it does runs in it.
    pub(crate) fn actor_span(id: &ActorId) -> ActorSpan {
        // A root: an actor outlives whatever spawned it (a handler, a supervisor's restart), whose
        // span it follows from instead of nesting in.
        let span = tracing::info_span!(
            target: TARGET,
            parent: None,
            "actor",
            actor = %id,
            actor.type = field::Empty,
            actor.name = field::Empty,
            actor.address = id.address().id(),
        );
        if !span.is_disabled() {
            span.follows_from(Span::current());
            span.record("actor.type", id.short_type_name().as_str());
            if let Some(name) = id.name() {
                span.record("actor.name", name);
            }
        }
        held(span)
    }

    /// The span of handling a message of `message_type`, inside its actor's span; it follows from
    /// `cause`, the span the message was sent in.
    #[inline(always)]
    pub(crate) fn message_span(message_type: &'static str, cause: &ActorSpan) -> ActorSpan {
        if messages_may_be_recorded() {
            recorded_message_span(message_type, cause)
        } else {
            ActorSpan::none()
        }
    }

    #[cold]
    #[inline(never)]
    fn recorded_message_span(message_type: &'static str, cause: &ActorSpan) -> ActorSpan {
        let span = tracing::debug_span!(
            target: TARGET,
            "message",
            message.type = message_type,
        );
        if let Some(cause) = cause.get() {
            span.follows_from(cause);
        }
        held(span)
    }

    /// Runs `f` with `span` entered.
    #[inline(always)]
    pub(crate) fn entered<R>(span: &ActorSpan, f: impl FnOnce() -> R) -> R {
        match span.get() {
            Some(span) => span.in_scope(f),
            None => f(),
        }
    }

    /// Ends `span` (where it would otherwise be kept across an await).
    #[inline(always)]
    pub(crate) fn end(span: ActorSpan) {
        drop(span);
    }

    /// `future`, entering `span` at each poll.
    #[inline]
    pub(crate) fn in_span<F: Future>(future: F, span: ActorSpan) -> InSpan<F> {
        InSpan {
            inner: future,
            span,
        }
    }

    pin_project! {
        /// A future run inside a span, entered at each poll: `tracing::Instrumented`, holding the span
        /// boxed, and nothing when no subscriber records it.
        pub(crate) struct InSpan<F> {
            #[pin]
            inner: F,
            span: ActorSpan,
        }
    }

    impl<F: Future> Future for InSpan<F> {
        type Output = F::Output;

        #[inline]
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let this = self.project();
            let _entered = this.span.get().map(Span::enter);
            this.inner.poll(cx)
        }
    }

    /// The actor's `on_start` has returned.
    pub(crate) fn started(id: &ActorId) {
        tracing::debug!(target: TARGET, actor = %id, "actor started");
    }

    /// An incarnation of the actor ended, with `reason`: a warning if the reason is abnormal.
    pub(crate) fn stopped(id: &ActorId, reason: &StopReason) {
        if reason.is_normal() {
            tracing::debug!(target: TARGET, actor = %id, reason = %reason, "actor stopped");
        } else {
            tracing::warn!(target: TARGET, actor = %id, reason = %reason, "actor stopped");
        }
    }

    /// A panic caught in an actor; `then` says what happens next.
    pub(crate) fn panicked(panic: &ActorPanic, then: &str) {
        tracing::error!(
            target: TARGET,
            actor = %panic.actor(),
            during = panic.during(),
            panic = panic.message(),
            then,
            "actor panicked",
        );
    }

    /// Something a supervisor did to a child: `child` is the child's identity.
    pub(crate) fn supervised(supervisor: &ActorId, child: &ActorId, event: &SupervisionEvent) {
        let spec = &*event.child;
        match &event.kind {
            SupervisionEventKind::Started => {
                tracing::debug!(target: TARGET, supervisor = %supervisor, child = %child, spec, "child started");
            }
            SupervisionEventKind::Exited(reason) => {
                tracing::debug!(target: TARGET, supervisor = %supervisor, child = %child, spec, reason = %reason, "child exited");
            }
            SupervisionEventKind::RestartScheduled(delay) => {
                tracing::info!(target: TARGET, supervisor = %supervisor, child = %child, spec, delay = ?delay, "child restart scheduled");
            }
            SupervisionEventKind::Restarted(restarts) => {
                tracing::info!(target: TARGET, supervisor = %supervisor, child = %child, spec, restarts, "child restarted");
            }
            SupervisionEventKind::Removed(reason) => {
                tracing::debug!(target: TARGET, supervisor = %supervisor, child = %child, spec, reason = %reason, "child removed");
            }
            SupervisionEventKind::Escalated(reason) => {
                tracing::error!(target: TARGET, supervisor = %supervisor, child = %child, spec, reason = %reason, "child failure escalated");
            }
        }
    }
}

/// The same API with the feature off: nothing, compiled out.
#[cfg(not(feature = "tracing"))]
mod off {
    use core::future::Future;

    use crate::actor::{ActorId, ActorPanic, StopReason};
    use crate::supervisor::SupervisionEvent;

    /// No span: nothing.
    #[derive(Clone)]
    pub(crate) struct ActorSpan;

    #[inline(always)]
    pub(crate) fn actor_span(_: &ActorId) -> ActorSpan {
        ActorSpan
    }

    #[inline(always)]
    pub(crate) fn message_span(_: &'static str, _: &ActorSpan) -> ActorSpan {
        ActorSpan
    }

    #[inline(always)]
    pub(crate) fn entered<R>(_: &ActorSpan, f: impl FnOnce() -> R) -> R {
        f()
    }

    #[inline(always)]
    pub(crate) fn end(_: ActorSpan) {}

    #[inline(always)]
    pub(crate) fn in_span<F: Future>(future: F, _: ActorSpan) -> F {
        future
    }

    #[inline(always)]
    pub(crate) fn started(_: &ActorId) {}

    #[inline(always)]
    pub(crate) fn stopped(_: &ActorId, _: &StopReason) {}

    #[inline(always)]
    pub(crate) fn panicked(_: &ActorPanic, _: &str) {}

    #[inline(always)]
    pub(crate) fn supervised(_: &ActorId, _: &ActorId, _: &SupervisionEvent) {}
}
