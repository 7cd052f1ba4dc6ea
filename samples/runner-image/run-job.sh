#!/bin/sh
# Registers, takes one job, and exits: an ephemeral runner.
echo "runner $(hostname) v${RUNNER_VERSION}: waiting for a job"
sleep "${JOB_SECONDS:-20}"
echo "$(date) $(hostname) job done" >> /cache/jobs.log
echo "runner $(hostname): job finished"
