//! Integration tests: the whole service against the local workspace.

mod admin_api;
mod commands;
mod console;
mod delivery;
mod digest;
mod flow;
mod free_text;
mod fuzz;
mod helpers;
mod home;
mod hostile;
mod install;
mod keys;
mod onboarding;
mod oracle;
mod outage;
mod privacy;
mod proxy;
mod pulse_question;
mod pulses;
mod reminders;
mod scheduling;
mod scoping;
mod slack_inbound;
mod socket;
mod teams;
