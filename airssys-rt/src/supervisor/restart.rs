//! How a supervisor starts, stops and restarts its children: strategies, intensity, backoff, and the
//! ordered stop of a group.

use super::*;

/// How a supervisor stops a child.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum StopMode {
    /// For a group restart: `stop`, the mailbox stays open for the next incarnation.
    Restart,
    /// For good: `drain`, the queued messages are handled first.
    Terminate,
}

impl Supervisor {
    pub(crate) fn new(spec: SupervisorSpec) -> Self {
        let (exits_sender, exits) = mpsc::unbounded_channel();
        Supervisor {
            spec,
            children: Vec::new(),
            exits,
            exits_sender,
            stashed: VecDeque::new(),
            restarts: VecDeque::new(),
            next_key: 0,
            random: 0,
            stats: SupervisorStats::default(),
            given_up: false,
            delayed: Vec::new(),
        }
    }

    pub(super) fn position(&self, key: u64) -> Option<usize> {
        self.children.iter().position(|child| child.key == key)
    }

    pub(super) fn event(&self, ctx: &Context<Self>, index: usize, kind: SupervisionEventKind) {
        let supervision = ctx.core().supervision();
        let child = &self.children[index];
        let event = SupervisionEvent {
            supervisor: ctx.address(),
            child: child.spec.id.clone(),
            address: child.strong.handle().address,
            at: Instant::now(),
            kind,
        };
        crate::observe::supervised(&ctx.handle().id, &child.strong.handle().id, &event);
        if supervision.events.has_subscribers() {
            supervision.events.report(event);
        }
    }

    /// Adds a child, not started yet.
    pub(super) fn insert(&mut self, spec: ErasedChildSpec, ctx: &Context<Self>) -> u64 {
        let (handle, dormant) = spec.start.create(ctx.core(), spec.options.clone());
        handle.set_parent(Some(ctx.address()));
        self.next_key += 1;
        let key = self.next_key;
        self.children.push(Child {
            key,
            spec,
            strong: Strong::new(handle),
            state: ChildState::Dormant(dormant),
            restarts: 0,
            consecutive: 0,
            attempted: false,
            started_at: None,
        });
        key
    }

    /// Starts the dormant children among `keys`, in the order they were added. A failed start is
    /// queued as an exit, handled by [`process`](Supervisor::process).
    pub(super) async fn start_group(&mut self, keys: &[u64], ctx: &mut Context<Self>) {
        for index in 0..self.children.len() {
            if keys.contains(&self.children[index].key) {
                self.start(index, ctx).await;
            }
        }
    }

    pub(super) async fn start(&mut self, index: usize, ctx: &mut Context<Self>) {
        let child = &mut self.children[index];
        let ChildState::Dormant(mut dormant) =
            core::mem::replace(&mut child.state, ChildState::Starting)
        else {
            return;
        };
        if child.strong.handle().farewell_asked() == Farewell::Stop {
            // Stopped for good while it waited for this start: it is not started, and `process`
            // removes it.
            dormant.reason = StopReason::Stopped;
            let key = child.key;
            self.stashed.push_back(ChildExit { key, dormant });
            return;
        }
        let parent = Parent {
            key: child.key,
            exits: self.exits_sender.clone(),
            supervisor: ctx.handle().clone(),
            wake: Supervisor::child_exited_message,
        };
        let start = child.spec.start.clone();
        let handle = child.strong.handle().clone();
        let first = !core::mem::replace(&mut child.attempted, true);
        if !first {
            // Every restart counts, whether the new incarnation starts or fails to.
            child.restarts += 1;
            handle.count_restart();
            crate::observe::restarted(&handle.id);
            self.stats.restarts += 1;
            ctx.core().supervision().restarts.incr();
        }
        match start.start(dormant, handle, ctx.core(), parent).await {
            Ok(()) => {
                let child = &mut self.children[index];
                child.state = ChildState::Running;
                child.started_at = Some(Instant::now());
                let kind = if first {
                    SupervisionEventKind::Started
                } else {
                    SupervisionEventKind::Restarted(child.restarts)
                };
                self.event(ctx, index, kind);
            }
            Err(dormant) => {
                let key = self.children[index].key;
                self.stashed.push_back(ChildExit { key, dormant });
            }
        }
    }

    /// Handles every exit received, until none is left.
    pub(super) async fn process(&mut self, ctx: &mut Context<Self>) {
        loop {
            while let Ok(exit) = self.exits.try_recv() {
                self.stashed.push_back(exit);
            }
            let Some(exit) = self.stashed.pop_front() else {
                return;
            };
            self.handle_exit(exit, ctx).await;
        }
    }

    pub(super) async fn handle_exit(&mut self, exit: ChildExit, ctx: &mut Context<Self>) {
        let ChildExit { key, dormant } = exit;
        let Some(index) = self.position(key) else {
            return;
        };
        if self.given_up {
            return;
        }
        let reason = dormant.reason.clone();
        self.stats.exits += 1;
        ctx.core().supervision().exits.incr();
        let child = &mut self.children[index];
        child.state = ChildState::Dormant(dormant);
        let ran_for = child.started_at.take().map(|started| started.elapsed());
        // Asked to stop or drain for good (or its mailbox closed): never restarted.
        let ended = child.strong.handle().refuses();
        let restart = !ended
            && match child.spec.restart {
                Restart::Permanent => true,
                Restart::Transient => !reason.is_normal(),
                Restart::Temporary => false,
            };
        self.event(ctx, index, SupervisionEventKind::Exited(reason.clone()));
        if !restart {
            self.remove(index, ctx);
            return;
        }
        if !self.allow_restart() {
            self.give_up(index, reason, ctx).await;
            return;
        }
        let (first, last) = match self.spec.strategy {
            Strategy::OneForOne => (index, index),
            Strategy::OneForAll => (0, self.children.len() - 1),
            Strategy::RestForOne => (index, self.children.len() - 1),
        };
        for other in (first..=last).rev() {
            if other != index {
                self.stop(other, StopMode::Restart, ctx).await;
            }
        }
        // Temporary children stopped with the group are not restarted.
        let group: Vec<u64> = self.children[first..=last]
            .iter()
            .map(|child| child.key)
            .collect();
        let mut keys = Vec::with_capacity(group.len());
        for key in group {
            let Some(position) = self.position(key) else {
                continue;
            };
            if self.children[position].spec.restart == Restart::Temporary {
                self.remove(position, ctx);
            } else {
                keys.push(key);
            }
        }
        let Some(index) = self.position(key) else {
            return;
        };
        let delay = self.backoff(index, ran_for);
        if delay.is_zero() && ran_for.is_some() {
            self.start_group(&keys, ctx).await;
        } else if delay.is_zero() {
            // It failed to start: restart it through the mailbox, so that a child whose start always
            // fails, under a permissive intensity, does not keep the supervisor from its other
            // messages (`stats`, a kill) in an endless loop of starts.
            let _ = ctx.actor_ref().tell(RestartDue { keys });
        } else {
            self.event(ctx, index, SupervisionEventKind::RestartScheduled(delay));
            self.delayed.retain(|&timer| ctx.is_pending(timer));
            self.delayed
                .push(ctx.send_after(RestartDue { keys }, delay));
        }
    }

    /// Records a restart; whether it is within the intensity.
    pub(super) fn allow_restart(&mut self) -> bool {
        let now = Instant::now();
        self.restarts.push_back(now);
        // Only whether there are more than `max_restarts` matters: keep at most one more.
        let keep = (self.spec.max_restarts as usize).saturating_add(1);
        while let Some(&oldest) = self.restarts.front() {
            if now.duration_since(oldest) >= self.spec.period || self.restarts.len() > keep {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.len() <= self.spec.max_restarts as usize
    }

    /// The delay before restarting the child at `index`, whose last incarnation ran for `ran_for`
    /// (`None`: it failed to start), as the backoff says.
    pub(super) fn backoff(&mut self, index: usize, ran_for: Option<Duration>) -> Duration {
        let Some(backoff) = self.spec.backoff else {
            return Duration::ZERO;
        };
        let child = &mut self.children[index];
        if ran_for.is_some_and(|ran_for| ran_for >= backoff.reset_after_period()) {
            child.consecutive = 0;
        }
        let attempt = child.consecutive;
        child.consecutive += 1;
        // SplitMix64 over a per-supervisor sequence: jitter without a dependency.
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random ^ child.strong.handle().address.routing_key();
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let random = (z >> 11) as f64 / (1_u64 << 53) as f64;
        backoff.delay(attempt, random)
    }

    /// Stops the running child at `index` as its shutdown says, and waits until it has.
    pub(super) async fn stop(&mut self, index: usize, mode: StopMode, ctx: &Context<Self>) {
        let child = &self.children[index];
        if !matches!(child.state, ChildState::Running) {
            return;
        }
        let key = child.key;
        let handle = child.strong.handle().clone();
        let shutdown = child.spec.shutdown;
        match (shutdown, mode) {
            (Shutdown::Brutal, _) => handle.signal(Signal::Kill),
            // This incarnation only: the mailbox stays open for the next.
            (_, StopMode::Restart) => handle.signal(Signal::Stop),
            (_, StopMode::Terminate) => handle.farewell(Farewell::Drain),
        }
        let dormant = match shutdown {
            Shutdown::Timeout(timeout) => {
                match tokio::time::timeout(timeout, self.wait_for_exit(key)).await {
                    Ok(dormant) => dormant,
                    Err(_) => {
                        handle.signal(Signal::Kill);
                        self.wait_for_exit(key).await
                    }
                }
            }
            Shutdown::Brutal | Shutdown::Infinity => self.wait_for_exit(key).await,
        };
        let reason = dormant.reason.clone();
        self.children[index].state = ChildState::Dormant(dormant);
        self.event(ctx, index, SupervisionEventKind::Exited(reason));
    }

    /// The exit of child `key`, stashing the others received meanwhile.
    pub(super) async fn wait_for_exit(&mut self, key: u64) -> Dormant {
        if let Some(position) = self.stashed.iter().position(|exit| exit.key == key)
            && let Some(exit) = self.stashed.remove(position)
        {
            return exit.dormant;
        }
        loop {
            let exit = self
                .exits
                .recv()
                .await
                .expect("the supervisor holds a sender of its own exit queue");
            if exit.key == key {
                return exit.dormant;
            }
            self.stashed.push_back(exit);
        }
    }

    /// Removes the dormant child at `index`: it stops for good, with `reason`.
    /// Removes the child at `index`, which has stopped: it stops for good, with the reason of its last
    /// incarnation, which this returns.
    pub(super) fn remove(&mut self, index: usize, ctx: &Context<Self>) -> StopReason {
        // A child whose start failed has its exit waiting in the stash.
        let key = self.children[index].key;
        if matches!(self.children[index].state, ChildState::Starting)
            && let Some(position) = self.stashed.iter().position(|exit| exit.key == key)
            && let Some(exit) = self.stashed.remove(position)
        {
            self.children[index].state = ChildState::Dormant(exit.dormant);
        }
        let reason = match &self.children[index].state {
            ChildState::Dormant(dormant) => dormant.reason.clone(),
            // Not reached: the supervisor removes only children that have stopped.
            ChildState::Running | ChildState::Starting => StopReason::Stopped,
        };
        self.event(ctx, index, SupervisionEventKind::Removed(reason.clone()));
        let child = self.children.remove(index);
        child.strong.handle().set_parent(None);
        reason
    }

    pub(super) fn child_ref(&self, index: usize) -> ChildRef {
        let child = &self.children[index];
        ChildRef {
            handle: child.strong.handle().clone(),
            type_id: child.spec.start.type_id(),
            type_name: child.spec.start.type_name(),
        }
    }

    /// Stops every child, in reverse order, for good.
    pub(super) async fn terminate_all(&mut self, ctx: &mut Context<Self>) {
        for timer in self.delayed.drain(..) {
            ctx.cancel_timer(timer);
        }
        while let Some(last) = self.children.len().checked_sub(1) {
            self.stop(last, StopMode::Terminate, ctx).await;
            self.remove(last, ctx);
        }
        self.stashed.clear();
    }

    pub(super) async fn give_up(
        &mut self,
        index: usize,
        reason: StopReason,
        ctx: &mut Context<Self>,
    ) {
        self.given_up = true;
        ctx.core().supervision().escalations.incr();
        crate::observe::escalated(&ctx.handle().id);
        self.event(ctx, index, SupervisionEventKind::Escalated(reason.clone()));
        let child = self.children[index].spec.id.clone();
        self.terminate_all(ctx).await;
        ctx.stop_with(StopReason::Escalated {
            child,
            reason: Arc::new(reason),
        });
    }
}
