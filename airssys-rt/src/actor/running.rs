//! Which actor's code runs on this thread now: what an `ask` checks to refuse an actor asking itself,
//! and what a dropped [`ReplySender`](crate::ReplySender) checks to tell a panic in a handler.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll};
use std::cell::Cell;

use pin_project_lite::pin_project;

use crate::address::ActorAddress;

thread_local! {
    /// The address of the actor whose handler or hook runs on this thread now, if any: what an `ask`
    /// checks to refuse an actor asking itself.
    static RUNNING: Cell<Option<ActorAddress>> = const { Cell::new(None) };
}

/// The actor whose handler or hook runs on this thread now.
pub(crate) fn running_actor() -> Option<ActorAddress> {
    RUNNING.with(Cell::get)
}

pin_project! {
    /// Runs a future as actor `address`'s code: [`running_actor`] says so during each of its polls.
    /// Wraps an actor's whole task, so that the message loop pays nothing per message, and a supervised
    /// child's `on_start`, which runs in its supervisor's task.
    pub(crate) struct RunningAs<F> {
        #[pin]
        inner: F,
        address: ActorAddress,
    }
}

impl<F> RunningAs<F> {
    pub(crate) fn new(address: ActorAddress, inner: F) -> Self {
        RunningAs { inner, address }
    }
}

/// Puts back the actor that ran on this thread before, even if the poll panics.
struct Restore(Option<ActorAddress>);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        RUNNING.with(|running| running.set(self.0));
    }
}

impl<F: Future> Future for RunningAs<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        crate::observe::polled();
        let _restore = Restore(RUNNING.with(|running| running.replace(Some(*this.address))));
        this.inner.poll(cx)
    }
}
