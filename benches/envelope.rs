//! Erase and downcast one message: the envelope (inline when it fits, decided at compile time), by
//! `downcast` and by `downcast_with`, against `Box<dyn Any + Send>` of the same message, for payloads of 8, 32, the inline limit (40)
//! and 256 bytes.
//!
//! `cargo bench --bench envelope`; figures in BENCHMARKS.md.

use std::any::Any;
use std::hint::black_box;

use airssys_rt::Message;
use airssys_rt::envelope::{ErasedEnvelope, INLINE_CAPACITY};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

#[derive(Message, Clone, Copy)]
struct Payload<const N: usize>([u64; N]);

fn erase_and_downcast<const N: usize>(c: &mut Criterion) {
    let bytes = N * 8;
    let mut group = c.benchmark_group("erase+downcast");
    let seed = Payload::<N>([7; N]);
    let storage = format!("{bytes}B ({:?})", Payload::<N>::STORAGE);

    // Each consumer observes the whole message, as a handler would.
    group.bench_function(BenchmarkId::new("envelope downcast", &storage), |b| {
        b.iter(|| {
            let erased = black_box(ErasedEnvelope::new(black_box(seed)));
            let message = erased.downcast::<Payload<N>>().ok().unwrap();
            black_box(&message);
        })
    });
    group.bench_function(BenchmarkId::new("envelope downcast_with", &storage), |b| {
        b.iter(|| {
            let erased = black_box(ErasedEnvelope::new(black_box(seed)));
            erased
                .downcast_with(|message: Payload<N>| {
                    black_box(&message);
                })
                .ok()
                .unwrap();
        })
    });
    group.bench_function(BenchmarkId::new("Box<dyn Any>", &storage), |b| {
        b.iter(|| {
            let erased: Box<dyn Any + Send> = black_box(Box::new(black_box(seed)));
            let message = *erased.downcast::<Payload<N>>().ok().unwrap();
            black_box(&message);
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    const { assert!(INLINE_CAPACITY == 40) };
    erase_and_downcast::<1>(c);
    erase_and_downcast::<4>(c);
    erase_and_downcast::<5>(c);
    erase_and_downcast::<32>(c);
}

criterion_group!(envelope, benches);
criterion_main!(envelope);
