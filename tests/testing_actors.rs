// The README's "Testing actors" example, word for word (tests/readme.rs checks that they agree).
#![cfg(feature = "testkit")]

use std::time::Duration;

use airssys_rt::prelude::*;
use airssys_rt::testkit::{TestSystem, expect_stopped};

#[derive(Message, Debug)]
#[message(result = u32)]
struct LimitOf(&'static str);

#[derive(Message, Debug)]
struct Reading(u32);

#[derive(Message, Debug, PartialEq)]
struct Alert(u32);

#[derive(Message, Debug)]
struct Silence;

/// Alerts on readings over the sensor's limit (asked from a limits service at start), and stops when
/// no reading came for 10 s.
struct Monitor {
    sensor: &'static str,
    limits: Recipient<LimitOf>,
    limit: u32,
    alerts: Recipient<Alert>,
}

#[actor]
impl Monitor {
    async fn on_start(&mut self, ctx: &mut Context<Self>) {
        self.limit = self.limits.ask(LimitOf(self.sensor)).await.unwrap();
        ctx.start_timer("watchdog", Silence, Duration::from_secs(10));
    }

    fn reading(&mut self, Reading(value): Reading, ctx: &mut Context<Self>) {
        ctx.start_timer("watchdog", Silence, Duration::from_secs(10)); // re-armed
        if value > self.limit {
            self.alerts.tell(Alert(value)).unwrap();
        }
    }

    fn silence(&mut self, _: Silence, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[tokio::test(start_paused = true)]
async fn alerts_over_the_limit_and_stops_when_the_sensor_goes_quiet() {
    let system = TestSystem::new();
    let limits = system.probe::<LimitOf>();
    // A mock of the limits service.
    limits.answer(|LimitOf(sensor)| if *sensor == "boiler" { 50 } else { 100 });
    let mut alerts = system.probe::<Alert>();
    let monitor = system.spawn(Monitor {
        sensor: "boiler",
        limits: limits.recipient(),
        limit: 0,
        alerts: alerts.recipient(),
    });
    monitor.tell(Reading(20)).unwrap();
    monitor.tell(Reading(70)).unwrap();
    alerts.expect_message_eq(Alert(70)).await;
    alerts.expect_no_message(Duration::from_secs(9)).await; // nine virtual seconds, no real wait
    system.advance(Duration::from_secs(1)).await; // the watchdog fires
    expect_stopped(&monitor, StopReason::Stopped).await;
}

#[tokio::test(start_paused = true)]
async fn each_reading_re_arms_the_watchdog() {
    let system = TestSystem::new();
    let limits = system.probe::<LimitOf>();
    limits.answer(|_| 50);
    let alerts = system.probe::<Alert>();
    // The actor's handlers, run by the test itself, recording what they do.
    let mut monitor = system.behavior(Monitor {
        sensor: "boiler",
        limits: limits.recipient(),
        limit: 0,
        alerts: alerts.recipient(),
    });
    monitor.start().await;
    assert_eq!(monitor.state().limit, 50);
    monitor.take_effects();
    monitor.tell(Reading(70)).await;
    let effects = monitor.take_effects();
    assert_eq!(effects.expect_timer::<Silence>().0, Duration::from_secs(10));
    effects.expect_sent::<Alert>(alerts.id());
}
