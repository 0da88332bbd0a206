//! certwatch-probe (under construction).
