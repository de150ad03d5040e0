//! Unit tests of the queue (also run under Miri and valgrind) and its loom models.

#[cfg(not(loom))]
mod unit {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use super::super::{CAP, Pop, Queue};

    /// Boxed, so that Miri and valgrind see a leak or a double drop of any value.
    fn take(queue: &Queue<Box<usize>>) -> Pop<usize> {
        // SAFETY: the test thread is the only consumer.
        match unsafe { queue.pop() } {
            Pop::Item(value) => Pop::Item(*value),
            Pop::Empty => Pop::Empty,
            Pop::Busy => Pop::Busy,
            Pop::Closed => Pop::Closed,
        }
    }

    fn detach<T>(queue: &Queue<T>) -> bool {
        // SAFETY: the test thread is the only consumer.
        unsafe { queue.detach() }
    }

    fn close<T>(queue: &Queue<T>) {
        // SAFETY: the test thread is the only consumer.
        unsafe { queue.close() }
    }

    #[test]
    fn values_come_out_in_order_across_blocks() {
        let queue = Queue::new();
        assert_eq!(take(&queue), Pop::Empty);
        let n = 3 * CAP + 5;
        for i in 0..n {
            queue.push(Box::new(i)).unwrap();
        }
        for i in 0..n {
            assert_eq!(take(&queue), Pop::Item(i));
        }
        assert_eq!(take(&queue), Pop::Empty);
        // Interleaved, across block boundaries again.
        for i in 0..2 * CAP {
            queue.push(Box::new(i)).unwrap();
            queue.push(Box::new(i + 1000)).unwrap();
            assert_eq!(take(&queue), Pop::Item(i));
            assert_eq!(take(&queue), Pop::Item(i + 1000));
        }
        assert_eq!(take(&queue), Pop::Empty);
    }

    #[test]
    fn the_length_counts_what_is_queued_across_blocks_and_detaches() {
        let queue = Queue::new();
        assert_eq!(queue.len(), 0);
        let n = 2 * CAP + 3;
        for i in 0..n {
            queue.push(Box::new(i)).unwrap();
            assert_eq!(queue.len(), i + 1);
        }
        for i in 0..n {
            assert_eq!(take(&queue), Pop::Item(i));
            assert_eq!(queue.len(), n - i - 1);
        }
        // Empty: the consumer detaches its block, and the next block starts in a later lap.
        // SAFETY: this thread is the only consumer.
        assert!(unsafe { queue.detach() });
        assert_eq!(queue.len(), 0);
        for i in 0..3 {
            queue.push(Box::new(i)).unwrap();
        }
        assert_eq!(queue.len(), 3);
        assert_eq!(take(&queue), Pop::Item(0));
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn a_closed_queue_gives_values_back_and_finishes_after_the_accepted_ones() {
        let queue = Queue::new();
        queue.push(Box::new(1)).unwrap();
        queue.push(Box::new(2)).unwrap();
        close(&queue);
        assert!(queue.is_closed());
        assert_eq!(queue.push(Box::new(3)).map_err(|value| *value), Err(3));
        assert_eq!(take(&queue), Pop::Item(1));
        assert_eq!(take(&queue), Pop::Item(2));
        assert_eq!(take(&queue), Pop::Closed);
        assert_eq!(take(&queue), Pop::Closed);

        // Closed before any block existed.
        let never_used = Queue::<Box<usize>>::new();
        close(&never_used);
        assert_eq!(take(&never_used), Pop::Closed);
        assert!(never_used.push(Box::new(0)).is_err());
    }

    #[test]
    fn an_empty_queue_detaches_its_block_and_installs_one_again() {
        let queue = Queue::new();
        assert!(!detach(&queue), "no block to detach yet");
        for round in 0..3 * CAP {
            queue.push(Box::new(round)).unwrap();
            assert_eq!(take(&queue), Pop::Item(round));
            assert!(detach(&queue), "an empty queue detaches");
            assert_eq!(take(&queue), Pop::Empty);
        }
        queue.push(Box::new(7)).unwrap();
        // SAFETY: as above.
        assert!(!detach(&queue), "a queue holding a value keeps its block");
        assert_eq!(take(&queue), Pop::Item(7));
        assert!(detach(&queue));
        close(&queue);
        assert_eq!(take(&queue), Pop::Closed);
        assert!(queue.push(Box::new(8)).is_err());
    }

    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn dropping_the_queue_drops_what_it_holds() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let queue = Queue::new();
        for _ in 0..CAP + 3 {
            assert!(queue.push(Counted(dropped.clone())).is_ok());
        }
        // SAFETY: the test thread is the only consumer.
        drop(unsafe { queue.pop() });
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
        drop(queue);
        assert_eq!(dropped.load(Ordering::Relaxed), CAP + 3);
    }

    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_push_wakes_the_waiting_consumer() {
        let queue = Queue::<Box<usize>>::new();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        // SAFETY: the test thread is the only consumer (here and below).
        assert!(unsafe { queue.poll_pop(&mut cx) }.is_pending());
        queue.push(Box::new(5)).unwrap();
        assert_eq!(wakes.0.load(Ordering::Relaxed), 1);
        // SAFETY: as above.
        let Poll::Ready(Some(value)) = (unsafe { queue.poll_pop(&mut cx) }) else {
            panic!("the pushed value is ready");
        };
        assert_eq!(*value, 5);
        // A bare wake (a signal) reaches a registered consumer too.
        // SAFETY: as above.
        assert!(unsafe { queue.poll_pop(&mut cx) }.is_pending());
        queue.wake();
        assert_eq!(wakes.0.load(Ordering::Relaxed), 2);
        close(&queue);
        // SAFETY: as above.
        assert_eq!(unsafe { queue.poll_pop(&mut cx) }, Poll::Ready(None));
    }

    #[test]
    fn senders_on_many_threads_keep_their_own_order() {
        let senders = 4;
        let each = if cfg!(miri) { 50 } else { 20_000 };
        let queue = Arc::new(Queue::<Box<(usize, usize)>>::new());
        let threads: Vec<_> = (0..senders)
            .map(|sender| {
                let queue = queue.clone();
                std::thread::spawn(move || {
                    for i in 0..each {
                        queue.push(Box::new((sender, i))).unwrap();
                    }
                })
            })
            .collect();
        let mut next = vec![0; senders];
        let mut received = 0;
        while received < senders * each {
            // SAFETY: the test thread is the only consumer.
            match unsafe { queue.pop() } {
                Pop::Item(value) => {
                    let (sender, i) = *value;
                    assert_eq!(i, next[sender], "sender {sender} out of order");
                    next[sender] += 1;
                    received += 1;
                }
                Pop::Empty | Pop::Busy => {
                    // Detach now and then, racing the senders.
                    // SAFETY: as above.
                    unsafe { queue.detach() };
                    std::thread::yield_now();
                }
                Pop::Closed => unreachable!("never closed"),
            }
        }
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(next, vec![each; senders]);
    }
}

#[cfg(loom)]
mod model {
    use loom::sync::Arc;
    use loom::thread;

    use super::super::{Pop, Queue};

    /// Every interleaving with up to two preemptions (loom's advice: most bugs need no more), and room
    /// for the senders' waits for a block installation, each a loop of yields.
    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.max_branches = 100_000;
        builder.check(f);
    }

    /// Takes values until `n` arrived, sleeping on the queue's waker between them (each sleep detaches
    /// the block of an empty queue): a lost wake-up is a deadlock, which loom reports.
    fn receive(queue: &Queue<usize>, n: usize) -> Vec<usize> {
        let mut got = Vec::new();
        while got.len() < n {
            // SAFETY: this thread is the only consumer.
            let value =
                loom::future::block_on(core::future::poll_fn(|cx| unsafe { queue.poll_pop(cx) }));
            got.push(value.expect("never closed"));
        }
        got
    }

    #[test]
    fn two_senders_racing_for_the_last_slot_of_a_block() {
        model(|| {
            let queue = Arc::new(Queue::new());
            // One slot of the first block (of 2) is taken: the two senders race for the last slot,
            // whose winner installs the next block while the other waits for it.
            queue.push(0).unwrap();
            let senders: Vec<_> = [1, 2]
                .into_iter()
                .map(|value| {
                    let queue = queue.clone();
                    thread::spawn(move || queue.push(value).unwrap())
                })
                .collect();
            // Racing them: take the first value, and look for the next one.
            // SAFETY: this thread is the only consumer (here and below).
            assert_eq!(unsafe { queue.pop() }, Pop::Item(0));
            let mut got = Vec::new();
            // SAFETY: as above.
            if let Pop::Item(value) = unsafe { queue.pop() } {
                got.push(value);
            }
            for sender in senders {
                sender.join().unwrap();
            }
            // SAFETY: as above.
            while let Pop::Item(value) = unsafe { queue.pop() } {
                got.push(value);
            }
            got.sort_unstable();
            assert_eq!(got, [1, 2]);
            // SAFETY: as above.
            assert_eq!(unsafe { queue.pop() }, Pop::Empty);
        });
    }

    #[test]
    fn a_send_racing_the_close_is_taken_or_given_back() {
        model(|| {
            let queue = Arc::new(Queue::new());
            queue.push(1).unwrap();
            let sender = {
                let queue = queue.clone();
                thread::spawn(move || queue.push(2).is_ok())
            };
            // SAFETY: this thread is the only consumer.
            unsafe { queue.close() };
            let mut got = Vec::new();
            loop {
                // SAFETY: as above.
                match loom::future::block_on(core::future::poll_fn(|cx| unsafe {
                    queue.poll_pop(cx)
                })) {
                    Some(value) => got.push(value),
                    None => break,
                }
            }
            let accepted = sender.join().unwrap();
            let expected: &[usize] = if accepted { &[1, 2] } else { &[1] };
            assert_eq!(got, expected);
            // SAFETY: as above.
            assert_eq!(unsafe { queue.pop() }, Pop::Closed);
        });
    }

    #[test]
    fn a_send_racing_a_detach_is_never_lost() {
        model(|| {
            let queue = Arc::new(Queue::new());
            queue.push(1).unwrap();
            let sender = {
                let queue = queue.clone();
                thread::spawn(move || queue.push(2).unwrap())
            };
            // SAFETY: this thread is the only consumer.
            assert_eq!(unsafe { queue.pop() }, Pop::Item(1));
            // SAFETY: as above.
            unsafe { queue.detach() };
            assert_eq!(receive(&queue, 1), [2]);
            sender.join().unwrap();
        });
    }
}
