//! Allocation claims of the envelope, counted by a global allocator: an inline message is erased and
//! downcast with no heap allocation; a boxed one costs exactly its one box.

use airssys_rt::Message;
use airssys_rt::envelope::{ErasedEnvelope, MessageEnvelope};
use airssys_rt_suite::{CountingAllocator, allocations};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[derive(Message, Debug, PartialEq)]
struct Small(u64, u64, u32);

#[derive(Message, Debug, PartialEq)]
struct Large([u64; 64]);

#[test]
fn an_inline_message_is_erased_and_downcast_without_allocating() {
    let (counted, total) = allocations(|| {
        let mut total = 0;
        for i in 0..10_000_u64 {
            let erased = ErasedEnvelope::new(Small(i, i, 1));
            let erased = erased.downcast::<Large>().unwrap_err(); // a failed check allocates nothing either
            total += erased.downcast::<Small>().unwrap().0;
            total += ErasedEnvelope::new(Small(i, i, 1))
                .downcast_with(|small: Small| small.1)
                .unwrap();
        }
        total
    });
    assert_eq!(total, 2 * (0..10_000).sum::<u64>());
    assert_eq!(counted.allocations, 0, "{counted:?}");

    let (counted, _) = allocations(|| {
        MessageEnvelope::new(Small(1, 2, 3))
            .erase()
            .downcast::<Small>()
    });
    assert_eq!(
        counted.allocations, 0,
        "the typed envelope path: {counted:?}"
    );
}

#[test]
fn a_boxed_message_costs_one_allocation_of_its_own_size() {
    let (counted, back) = allocations(|| ErasedEnvelope::new(Large([7; 64])).downcast::<Large>());
    assert_eq!(back.unwrap(), Large([7; 64]));
    assert_eq!(counted.allocations, 1, "{counted:?}");
    assert_eq!(counted.bytes, size_of::<Large>());

    let (counted, first) = allocations(|| {
        ErasedEnvelope::new(Large([8; 64])).downcast_with(|large: Large| large.0[0])
    });
    assert_eq!(first.unwrap(), 8);
    assert_eq!(counted.allocations, 1, "downcast_with: {counted:?}");
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the guard: a zero above must mean "no allocation", not "not counting".
    let (counted, _) = allocations(|| Box::new(5_u64));
    assert_eq!(counted.allocations, 1);
}
