#!/usr/bin/env bash
# Install (Debian's slurm-wlm and munge) and start a one-node SLURM cluster on this host: munged, slurmctld,
# slurmd, with select/cons_tres, no accounting database, MinJobAge 600; waits until the node is idle.
# Needs root. Exit 0: cluster up; exit 3: cannot run here (not root, or apt failed), with the reason printed.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "start_cluster: not root: cannot install or start SLURM"; exit 3; fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if ! { apt-get update -qq && apt-get install -y -qq slurm-wlm munge; } >/tmp/recunlearn-slurm-apt.log 2>&1; then
        echo "start_cluster: apt-get could not install slurm-wlm and munge (see /tmp/recunlearn-slurm-apt.log)"
        exit 3
    fi
fi
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 2048 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
cat > /etc/slurm/slurm.conf <<CONF
# one-node test cluster written by tests/slurm/start_cluster.sh
ClusterName=recunlearn
SlurmctldHost=${host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MinJobAge=600
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=${host} CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=main Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 60); do
    state=$(sinfo -h -o %t 2>/dev/null | head -n 1 || true)
    if [ "$state" = "idle" ]; then
        echo "start_cluster: node ${host} idle (${cpus} CPUs, ${mem} MB)"
        exit 0
    fi
    sleep 1
done
echo "start_cluster: the node did not become idle (sinfo: ${state:-nothing}); see /var/log/slurm/"
exit 1
