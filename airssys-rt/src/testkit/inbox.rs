//! What every probe shares: the queue of what arrived, waits with a deadline on tokio's clock (the
//! paused one in a test), and failures that say what did arrive.

use core::fmt::Write as _;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long an expectation waits when no duration is given: as Akka's test kit. On the paused clock
/// this costs no real time.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// How many of the items taken before a failure it lists.
const SHOWN: usize = 10;

/// Items arriving for a probe, and what it took of them so far, for its failure messages.
pub(crate) struct Inbox<T> {
    source: mpsc::UnboundedReceiver<T>,
    /// Who fails: "probe `db <TestProbe<Query> 4>`".
    who: String,
    /// What was taken so far, described.
    taken: Vec<String>,
    /// How long an expectation without a duration waits.
    pub(crate) timeout: Duration,
}

/// What a probe's expectation makes of the next item: the value it expects, or a description of an
/// item it does not (a message of another type), which fails the expectation.
pub(crate) type Take<T, U> = Result<(U, String), (T, String)>;

impl<T> Inbox<T> {
    pub(crate) fn new(source: mpsc::UnboundedReceiver<T>, who: String) -> Self {
        Inbox {
            source,
            who,
            taken: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The next item, if one comes by `deadline`; `Err(())` if the sending side is gone (the probe's
    /// actor stopped, the system is gone).
    async fn next_by(&mut self, deadline: Instant) -> Result<Option<T>, ()> {
        match tokio::time::timeout_at(deadline, self.source.recv()).await {
            Ok(Some(item)) => Ok(Some(item)),
            Ok(None) => Err(()),
            Err(_) => Ok(None),
        }
    }

    /// Items that came and were not taken: handed back when a probe is dropped.
    pub(crate) fn left(&mut self) -> Vec<T> {
        let mut left = Vec::new();
        while let Ok(item) = self.source.try_recv() {
            left.push(item);
        }
        left
    }

    /// Panics with `what` went wrong, and what arrived before.
    pub(crate) fn fail(&self, what: &str) -> ! {
        let mut message = format!("{}: {what}", self.who);
        if self.taken.is_empty() {
            message.push_str("\n  nothing arrived before");
        } else {
            let skip = self.taken.len().saturating_sub(SHOWN);
            let _ = write!(
                message,
                "\n  {} arrived so far, in order{}:",
                self.taken.len(),
                if skip > 0 {
                    " (the last ones shown)"
                } else {
                    ""
                }
            );
            for taken in &self.taken[skip..] {
                let _ = write!(message, "\n    {taken}");
            }
        }
        panic!("{message}");
    }

    /// Waits up to `within` for the next item, and takes it as `take` says; fails on none or on one
    /// `take` refuses. `what` is what was expected ("a message", "an ask of `Get`").
    pub(crate) async fn expect<U>(
        &mut self,
        within: Duration,
        what: &str,
        take: impl FnOnce(T) -> Take<T, U>,
    ) -> U {
        match self.next_by(Instant::now() + within).await {
            Ok(Some(item)) => match take(item) {
                Ok((value, described)) => {
                    self.taken.push(described);
                    value
                }
                Err((_, described)) => self.fail(&format!("expected {what}, got {described}")),
            },
            Ok(None) => self.fail(&format!("expected {what} within {within:?}, got none")),
            Err(()) => self.fail(&format!(
                "expected {what}, but nothing more can arrive (its sender is gone)"
            )),
        }
    }

    /// Waits `during`, and fails if anything arrives meanwhile.
    pub(crate) async fn expect_none(
        &mut self,
        during: Duration,
        describe: impl FnOnce(&T) -> String,
    ) {
        let start = Instant::now();
        if let Ok(Some(item)) = self.next_by(start + during).await {
            let described = describe(&item);
            self.fail(&format!(
                "expected nothing for {during:?}, got {described} after {:?}",
                start.elapsed()
            ));
        }
    }

    /// Takes `n` items, as `take` says, all within `within`.
    pub(crate) async fn receive_n<U>(
        &mut self,
        n: usize,
        within: Duration,
        what: &str,
        mut take: impl FnMut(T) -> Take<T, U>,
    ) -> Vec<U> {
        let deadline = Instant::now() + within;
        let mut values = Vec::with_capacity(n);
        let mut got = Vec::new();
        while values.len() < n {
            let item = match self.next_by(deadline).await {
                Ok(Some(item)) => item,
                Ok(None) | Err(()) => {
                    let got = if got.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", got.join(", "))
                    };
                    self.fail(&format!(
                        "expected {n} {what} within {within:?}, got {}{got}",
                        values.len()
                    ));
                }
            };
            match take(item) {
                Ok((value, described)) => {
                    got.push(described.clone());
                    self.taken.push(described);
                    values.push(value);
                }
                Err((_, described)) => self.fail(&format!(
                    "expected {n} {what}, got {described} after {} of them",
                    values.len()
                )),
            }
        }
        values
    }

    /// Takes items until one that `take` accepts matches `matches`, within `within`: the others are
    /// skipped (and listed if none matches).
    pub(crate) async fn fish_for<U>(
        &mut self,
        within: Duration,
        what: &str,
        mut take: impl FnMut(T) -> Take<T, U>,
        mut matches: impl FnMut(&U) -> bool,
    ) -> U {
        let deadline = Instant::now() + within;
        let mut skipped = Vec::new();
        loop {
            let item = match self.next_by(deadline).await {
                Ok(Some(item)) => item,
                Ok(None) | Err(()) => {
                    let skipped = if skipped.is_empty() {
                        "nothing arrived".to_owned()
                    } else {
                        format!("skipped {}", skipped.join(", "))
                    };
                    self.fail(&format!(
                        "fished for {what} for {within:?} and none matched ({skipped})"
                    ));
                }
            };
            let described = match take(item) {
                Ok((value, described)) if matches(&value) => {
                    self.taken.push(described);
                    return value;
                }
                Ok((_, described)) | Err((_, described)) => described,
            };
            skipped.push(described.clone());
            self.taken.push(described);
        }
    }
}
