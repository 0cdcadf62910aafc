"""`digest doctor`: check every part of the setup now, one line each; nothing sent or marked."""

from agent.doctor.checks import Check, exit_code
from agent.doctor.run import DoctorOptions, run_doctor

__all__ = ["Check", "DoctorOptions", "exit_code", "run_doctor"]
