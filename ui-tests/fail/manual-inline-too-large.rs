use airssys_rt::envelope::ErasedEnvelope;
use airssys_rt::{Message, Storage};

struct Frame([u8; 128]);

impl Message for Frame {
    const MESSAGE_TYPE: &'static str = "Frame";
    type Result = ();
    const STORAGE: Storage = Storage::Inline;
}

fn main() {
    let _ = ErasedEnvelope::new(Frame([0; 128]));
}
