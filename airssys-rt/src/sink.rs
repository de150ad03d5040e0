//! A broadcast to subscribers that each get every item: the dead-letter sink and the supervision event
//! stream.

use std::sync::{PoisonError, RwLock};

use tokio::sync::mpsc;

/// Every live subscriber's queue. Reporting clones the item into each; closed queues are dropped.
#[derive(Debug)]
pub(crate) struct Sink<T> {
    subscribers: RwLock<Vec<mpsc::UnboundedSender<T>>>,
}

impl<T> Default for Sink<T> {
    fn default() -> Self {
        Sink {
            subscribers: RwLock::new(Vec::new()),
        }
    }
}

impl<T: Clone> Sink<T> {
    pub(crate) fn has_subscribers(&self) -> bool {
        !self
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Reports `item` to every subscriber; returns whether anyone received it.
    pub(crate) fn report(&self, item: T) -> bool {
        let mut received = false;
        let mut gone = false;
        for subscriber in self
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            match subscriber.send(item.clone()) {
                Ok(()) => received = true,
                Err(_) => gone = true,
            }
        }
        if gone {
            self.subscribers
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|subscriber| !subscriber.is_closed());
        }
        received
    }

    pub(crate) fn subscribe(&self) -> mpsc::UnboundedReceiver<T> {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sender);
        receiver
    }
}
