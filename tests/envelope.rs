//! The envelope's contract: messages survive erasure unchanged, come back only as their own type,
//! are dropped exactly once whatever path they take, and keep their alignment.

use std::any::{Any, TypeId};
use std::num::NonZeroU64;

use airssys_rt::envelope::{ErasedEnvelope, INLINE_CAPACITY, MessageEnvelope};
use airssys_rt::{ActorAddress, Message, Storage};
use airssys_rt_suite::{DropCounter, DropToken};

#[derive(Message, Debug, PartialEq, Clone)]
struct Small(u64);

#[derive(Message, Debug, PartialEq, Clone)]
struct Text {
    id: u32,
    text: String,
}

#[derive(Message, Debug, PartialEq, Clone)]
struct AtLimit([u8; INLINE_CAPACITY]);

#[derive(Message, Debug, PartialEq, Clone)]
struct Large([u64; 32]);

#[derive(Message, Debug, PartialEq, Clone, Copy)]
struct Unit;

#[derive(Message, Debug, PartialEq, Clone, Copy)]
#[message(boxed)]
struct BoxedUnit;

#[derive(Message, Debug, PartialEq, Clone, Copy)]
#[message(boxed)]
struct ForcedBoxed(u8);

#[derive(Message, Debug, PartialEq, Clone)]
enum Command {
    Start(u32),
    Stop { reason: String },
}

#[derive(Message, Debug, PartialEq)]
struct Wrapper<T>(T);

#[derive(Message)]
#[expect(dead_code, reason = "the token is held for its drop")]
struct Tracked(DropToken);

#[derive(Message)]
#[expect(
    dead_code,
    reason = "the fields are held for their drop and their size"
)]
struct TrackedLarge(DropToken, [u64; 16]);

#[derive(Message, Debug)]
struct Other;

#[derive(Message, Debug, PartialEq, Clone, Copy)]
#[repr(align(16))]
struct Align16(u64);

#[derive(Message, Debug, PartialEq, Clone, Copy)]
#[repr(align(64))]
struct Align64(u8);

#[derive(Message, Debug, PartialEq, Clone, Copy)]
#[repr(align(8))]
struct Align8([u8; 3]);

/// Erases `message`, checks how it is stored, and gets it back.
fn round_trip<M: Message + Clone + PartialEq + std::fmt::Debug>(message: M, storage: Storage) {
    let erased = ErasedEnvelope::new(message.clone());
    assert_eq!(erased.storage(), storage, "{}", M::MESSAGE_TYPE);
    assert_eq!(erased.is_inline(), storage == Storage::Inline);
    assert_eq!(erased.message_type(), M::MESSAGE_TYPE);
    assert_eq!(erased.message_type_id(), TypeId::of::<M>());
    assert!(erased.is::<M>());
    assert_eq!(erased.downcast_ref::<M>(), Some(&message));
    assert_eq!(erased.downcast::<M>().unwrap(), message);
    let erased = ErasedEnvelope::new(message.clone());
    assert!(erased.downcast_with(|back: M| back == message).unwrap());
}

#[test]
fn messages_survive_erasure_unchanged() {
    round_trip(Small(u64::MAX), Storage::Inline);
    round_trip(
        Text {
            id: 7,
            text: "hello".repeat(100),
        },
        Storage::Inline,
    );
    round_trip(AtLimit([0xAB; INLINE_CAPACITY]), Storage::Inline);
    round_trip(Unit, Storage::Inline);
    round_trip(Command::Start(3), Storage::Inline);
    round_trip(
        Command::Stop {
            reason: "done".into(),
        },
        Storage::Inline,
    );
    round_trip(
        Large(std::array::from_fn(|i| i as u64 * 31)),
        Storage::Boxed,
    );
    round_trip(ForcedBoxed(9), Storage::Boxed);
    round_trip(BoxedUnit, Storage::Boxed);
}

#[test]
fn the_storage_decision_follows_size_and_alignment() {
    assert_eq!(AtLimit::STORAGE, Storage::Inline);
    assert_eq!(
        <[u8; INLINE_CAPACITY + 1]>::default_storage(),
        Storage::Boxed
    );
    assert_eq!(Align8::STORAGE, Storage::Inline);
    assert_eq!(
        Align16::STORAGE,
        Storage::Boxed,
        "over-aligned messages are boxed"
    );
    assert_eq!(Align64::STORAGE, Storage::Boxed);
    assert_eq!(ForcedBoxed::STORAGE, Storage::Boxed);
}

trait DefaultStorage {
    fn default_storage() -> Storage;
}

impl<T> DefaultStorage for T {
    fn default_storage() -> Storage {
        Storage::of::<T>()
    }
}

#[test]
fn a_wrong_type_gives_the_envelope_back_unchanged() {
    let erased = ErasedEnvelope::new(Text {
        id: 1,
        text: "kept".into(),
    });
    assert!(!erased.is::<Small>());
    assert!(erased.downcast_ref::<Small>().is_none());
    let erased = erased.downcast::<Small>().unwrap_err();
    let erased = erased.downcast::<Other>().unwrap_err();
    assert_eq!(erased.message_type(), Text::MESSAGE_TYPE);
    assert_eq!(
        erased.downcast::<Text>().unwrap(),
        Text {
            id: 1,
            text: "kept".into()
        }
    );

    let boxed = ErasedEnvelope::new(Large([5; 32]));
    let boxed = boxed.downcast::<Small>().unwrap_err();
    assert_eq!(boxed.downcast::<Large>().unwrap(), Large([5; 32]));
}

#[test]
fn generic_instances_are_distinct_types_that_share_a_name() {
    let erased = ErasedEnvelope::new(Wrapper(7_u8));
    assert_eq!(Wrapper::<u8>::MESSAGE_TYPE, Wrapper::<u16>::MESSAGE_TYPE);
    let erased = erased.downcast::<Wrapper<u16>>().unwrap_err();
    assert_eq!(erased.downcast::<Wrapper<u8>>().unwrap(), Wrapper(7));
}

/// Erases a fresh tracked message, lets `end` consume the envelope, and checks that the payload has
/// been dropped `dropped_by_end` times when `end` returns, and exactly once after what it returned is
/// dropped too.
fn ends_once<M: Message>(
    make: &impl Fn(DropToken) -> M,
    storage: Storage,
    dropped_by_end: usize,
    how: &str,
    end: impl FnOnce(ErasedEnvelope) -> Box<dyn Any>,
) {
    let counter = DropCounter::new();
    let erased = ErasedEnvelope::new(make(counter.token()));
    assert_eq!(erased.storage(), storage);
    let left = end(erased);
    assert_eq!(
        counter.drops(),
        dropped_by_end,
        "{how}: drops when it returned"
    );
    drop(left);
    assert_eq!(
        counter.drops(),
        1,
        "{how}: the payload must be dropped exactly once"
    );
}

/// Every way an envelope can end must drop its payload exactly once.
fn drops_exactly_once<M: Message>(make: impl Fn(DropToken) -> M, storage: Storage) {
    ends_once(&make, storage, 0, "downcast", |e| {
        Box::new(e.downcast::<M>().ok().unwrap())
    });
    ends_once(&make, storage, 0, "downcast_with, kept", |e| {
        Box::new(e.downcast_with(|message: M| message).ok().unwrap())
    });
    ends_once(&make, storage, 1, "downcast_with, dropped", |e| {
        e.downcast_with(|message: M| drop(message)).ok().unwrap();
        Box::new(())
    });
    ends_once(&make, storage, 0, "failed downcast", |e| {
        Box::new(e.downcast::<Other>().unwrap_err())
    });
    ends_once(&make, storage, 0, "failed downcast_with", |e| {
        Box::new(
            e.downcast_with(|_: Other| unreachable!("called for a wrong type"))
                .unwrap_err(),
        )
    });
    ends_once(&make, storage, 1, "dropped undelivered", |e| {
        drop(e);
        Box::new(())
    });

    let counter = DropCounter::new();
    drop(MessageEnvelope::new(make(counter.token())).erase());
    assert_eq!(counter.drops(), 1, "typed envelope, erased and dropped");
}

#[test]
fn an_inline_payload_is_dropped_exactly_once() {
    drops_exactly_once(Tracked, Storage::Inline);
}

#[test]
fn a_boxed_payload_is_dropped_exactly_once() {
    drops_exactly_once(|token| TrackedLarge(token, [0; 16]), Storage::Boxed);
}

/// Erases many `M`s (so that allocations land at varied addresses) and checks where each is stored.
fn keeps_alignment<M: Message + PartialEq + std::fmt::Debug>(make: impl Fn(u8) -> M) {
    let erased: Vec<ErasedEnvelope> = (0..64).map(|i| ErasedEnvelope::new(make(i))).collect();
    for (i, erased) in (0..).zip(erased) {
        let stored: *const M = erased.downcast_ref::<M>().unwrap();
        assert_eq!(stored as usize % align_of::<M>(), 0, "{}", M::MESSAGE_TYPE);
        assert_eq!(erased.downcast::<M>().unwrap(), make(i));
    }
}

#[test]
fn over_aligned_messages_keep_their_alignment() {
    keeps_alignment(|i| Align8([i, 1, 2]));
    keeps_alignment(|i| Align16(u64::from(i)));
    keeps_alignment(Align64);
}

#[test]
fn an_inline_message_lives_inside_the_envelope() {
    let erased = ErasedEnvelope::new(Align8([1, 2, 3]));
    let start = &erased as *const ErasedEnvelope as usize;
    let stored = erased.downcast_ref::<Align8>().unwrap() as *const Align8 as usize;
    assert!(stored >= start && stored + size_of::<Align8>() <= start + size_of::<ErasedEnvelope>());
    assert_eq!(stored % 8, 0);

    let boxed = ErasedEnvelope::new(Large([1; 32]));
    let start = &boxed as *const ErasedEnvelope as usize;
    let stored = boxed.downcast_ref::<Large>().unwrap() as *const Large as usize;
    assert!(stored + size_of::<Large>() <= start || stored >= start + size_of::<ErasedEnvelope>());
}

#[test]
fn envelopes_move_between_threads() {
    let envelopes = vec![
        ErasedEnvelope::new(Text {
            id: 1,
            text: "one".into(),
        }),
        ErasedEnvelope::new(Large([2; 32])),
    ];
    let back = std::thread::spawn(move || {
        let mut envelopes = envelopes.into_iter();
        let text = envelopes.next().unwrap().downcast::<Text>().unwrap();
        let large = envelopes.next().unwrap().downcast::<Large>().unwrap();
        (text, large)
    })
    .join()
    .unwrap();
    assert_eq!(
        back,
        (
            Text {
                id: 1,
                text: "one".into()
            },
            Large([2; 32])
        )
    );
}

#[test]
fn typed_envelopes_carry_sender_target_and_time() {
    let target = ActorAddress::from_id(NonZeroU64::new(3).unwrap());
    let sender = ActorAddress::from_id(NonZeroU64::new(4).unwrap());
    let before = std::time::Instant::now();
    let envelope = MessageEnvelope::new(Small(1));
    assert_eq!(envelope.routing_key, MessageEnvelope::<Small>::UNADDRESSED);
    assert_eq!(envelope.sender, None);
    let envelope = envelope.to(target).from(sender);
    assert!(envelope.timestamp >= before);
    assert_eq!(envelope.routing_key, target.routing_key());
    assert_ne!(target.routing_key(), sender.routing_key());
    assert_eq!(envelope.sender, Some(sender));
    assert_eq!(envelope.into_message(), Small(1));
    assert_eq!(
        MessageEnvelope::new(Small(2))
            .erase()
            .downcast::<Small>()
            .unwrap(),
        Small(2)
    );
}

#[test]
fn addresses_have_distinct_nonzero_routing_keys() {
    let keys: std::collections::HashSet<u64> = (1..=100_000_u64)
        .map(|id| ActorAddress::from_id(NonZeroU64::new(id).unwrap()).routing_key())
        .collect();
    assert_eq!(keys.len(), 100_000);
    assert!(!keys.contains(&MessageEnvelope::<Small>::UNADDRESSED));
    let max = ActorAddress::from_id(NonZeroU64::MAX);
    assert_ne!(max.routing_key(), 0);
}

#[test]
fn debug_output_names_the_message_type() {
    let erased = ErasedEnvelope::new(Small(1));
    let text = format!("{erased:?}");
    assert!(text.contains("ErasedEnvelope"), "{text}");
    assert!(text.contains(Small::MESSAGE_TYPE), "{text}");
    assert!(text.contains("Inline"), "{text}");
}

static_assertions::assert_eq_size!(ErasedEnvelope, [u64; 6]);
static_assertions::assert_eq_size!(ActorAddress, Option<ActorAddress>, [u8; 16]);
static_assertions::assert_impl_all!(ErasedEnvelope: Send, std::fmt::Debug);
static_assertions::assert_not_impl_any!(ErasedEnvelope: Sync, Clone);
