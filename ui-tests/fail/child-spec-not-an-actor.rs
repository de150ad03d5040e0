use airssys_rt::supervisor::ChildSpec;

struct Plain;

fn main() {
    let _ = ChildSpec::new("plain", || Plain);
}
