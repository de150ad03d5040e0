//! Managing a supervisor's children at run time, through its `ActorRef`.

use super::*;

/// Managing a supervisor's children at run time.
impl ActorRef<Supervisor> {
    /// Adds a child and starts it, after the existing ones; returns a reference to it, valid across its
    /// restarts.
    ///
    /// # Errors
    ///
    /// [`ChildError::DuplicateId`] if the id is taken; [`ChildError::StartFailed`] if its factory or
    /// `on_start` panicked (it is not added); [`ChildError::SupervisorStopped`].
    pub async fn add_child<A: Actor>(&self, spec: ChildSpec<A>) -> Result<ActorRef<A>, ChildError> {
        let id = spec.id.clone();
        self.ask(AddChild { spec: spec.erase() }).await??.typed(&id)
    }

    /// Stops the child `id` for good (as its [`Shutdown`] says) and removes it; returns why it stopped.
    ///
    /// # Errors
    ///
    /// [`ChildError::NoSuchChild`]; [`ChildError::SupervisorStopped`].
    pub async fn remove_child(&self, id: &str) -> Result<StopReason, ChildError> {
        self.ask(RemoveChild { id: id.into() }).await?
    }

    /// A reference to the child `id`, an `A`.
    ///
    /// # Errors
    ///
    /// [`ChildError::NoSuchChild`]; [`ChildError::WrongType`] if it is not an `A`;
    /// [`ChildError::SupervisorStopped`].
    pub async fn child<A: Actor>(&self, id: &str) -> Result<ActorRef<A>, ChildError> {
        self.ask(GetChild { id: id.into() }).await??.typed(id)
    }

    /// Every child, in start order.
    ///
    /// # Errors
    ///
    /// [`ChildError::SupervisorStopped`].
    pub async fn children(&self) -> Result<Vec<ChildInfo>, ChildError> {
        Ok(self.ask(WhichChildren).await?)
    }

    /// The supervisor's counters.
    ///
    /// # Errors
    ///
    /// [`ChildError::SupervisorStopped`].
    pub async fn stats(&self) -> Result<SupervisorStats, ChildError> {
        Ok(self.ask(GetStats).await?)
    }
}
