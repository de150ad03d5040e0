use airssys_rt::Message;
use airssys_rt::envelope::ErasedEnvelope;

#[derive(Message)]
#[message(inline)]
struct Batch<T>(T);

fn main() {
    // Fits: fine.
    let _ = ErasedEnvelope::new(Batch(1_u64));
    // Does not fit: the error appears once the size is known.
    let _ = ErasedEnvelope::new(Batch([0_u64; 16]));
}
