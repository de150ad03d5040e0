//! Erase and downcast one message: the envelope (inline when it fits, decided at compile time)
//! against `Box<dyn Any + Send>` of the same message, for payloads of 8, 32, the inline limit (40)
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

    group.bench_function(BenchmarkId::new("envelope", &storage), |b| {
        b.iter(|| {
            let erased = black_box(ErasedEnvelope::new(black_box(seed)));
            let message = erased.downcast::<Payload<N>>().ok().unwrap();
            black_box(message.0[N - 1])
        })
    });
    group.bench_function(BenchmarkId::new("Box<dyn Any>", &storage), |b| {
        b.iter(|| {
            let erased: Box<dyn Any + Send> = black_box(Box::new(black_box(seed)));
            let message = *erased.downcast::<Payload<N>>().ok().unwrap();
            black_box(message.0[N - 1])
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
