use airssys_rt::envelope::ErasedEnvelope;

struct Plain(u32);

fn main() {
    let _ = ErasedEnvelope::new(Plain(1));
}
