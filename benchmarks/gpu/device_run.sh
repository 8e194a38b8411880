#!/bin/bash
# One prepared GPU session (benchmarks/gpu/README.md): colorgan.bench on the GPU (bf16, channels_last,
# torch.compile), trainer=gpu and trainer=ddp smoke runs, and stage 1 / stage 2 trained far longer than
# the CPU allows on the real-photo set, each scored against gray on its held-out photos.
#
#   PHOTOS=~/.cache/colorgan/photoset OUT=gpu-results bash benchmarks/gpu/device_run.sh
#
# Every step has a time budget: a step that would not fit before BUDGET_S (default 540 s) is skipped and
# says so. Logs, metrics.json files and the bench reports are packed into OUT/results.tar.gz after each step
# (checkpoints stay in WORK), so a run cut short still returns what it finished.
set -u
PY=${PY:-python3}
PHOTOS=${PHOTOS:-$HOME/.cache/colorgan/photoset}
OUT=${OUT:-gpu-results}
WORK=${WORK:-/tmp/colorgan-gpu}
BUDGET_S=${BUDGET_S:-540}
STAGE1_STEPS=${STAGE1_STEPS:-3000}
STAGE2_STEPS=${STAGE2_STEPS:-2000}
SMOKE_STEPS=${SMOKE_STEPS:-30}
WORKERS=${WORKERS:-8}
DEVICE=${DEVICE:-cuda}    # cpu: a dry run of this script on a machine without a GPU (add BENCH_EXTRA=--quick)
BENCH_EXTRA=${BENCH_EXTRA:-}
export WANDB_MODE=disabled PYTHONUNBUFFERED=1 HYDRA_FULL_ERROR=1
mkdir -p "$OUT" "$WORK/logs" "$WORK/runs" "$WORK/bench"
OUT=$(cd "$OUT" && pwd)
if [ "$DEVICE" = cpu ]; then
    one=(trainer=cpu)
    ddp=(trainer=ddp trainer.accelerator=cpu trainer.devices=1 trainer.precision=32-true trainer.sync_batchnorm=false)
else
    one=(trainer=gpu)
    ddp=(trainer=ddp trainer.devices=1)
fi
deadline=$((SECONDS + BUDGET_S))

pack() {  # everything small that was written so far -> OUT/results.tar.gz
    (cd "$WORK" && tar czf "$OUT/results.tar.gz.part" --exclude='*.ckpt' --exclude='*.onnx' logs runs bench \
        2>/dev/null; mv "$OUT/results.tar.gz.part" "$OUT/results.tar.gz")
}

# step NAME SECONDS_NEEDED COMMAND...: run it if it fits in what is left of the budget
step() {
    local name=$1 need=$2 left=$((deadline - SECONDS)) start=$SECONDS rc
    shift 2
    if ((left < need)); then
        echo "=== $name: skipped ($left s left, needs about $need s)"
        return
    fi
    echo "=== $name: start $(date +%T)"
    timeout $((left - 5)) bash -c '"$@"' "$name" "$@" >"$WORK/logs/$name.log" 2>&1
    rc=$?
    echo "=== $name: rc=$rc, $((SECONDS - start)) s"
    tail -n 4 "$WORK/logs/$name.log"
    pack
    return $rc
}

train() {  # train RUN_NAME overrides... (a trainer=... among them chooses the trainer)
    local name=$1
    shift
    "$PY" -m colorgan.train logger=csv trainer.enable_progress_bar=false \
        hydra.run.dir="$WORK/runs/$name" "$@"
}

score() {  # score RUN_NAME [evaluate options]: held-out real photos, default passes
    local name=$1
    shift
    "$PY" -m colorgan.evaluate "$WORK/runs/$name" --data "$PHOTOS/test" --device "$DEVICE" --quiet \
        -o "$WORK/runs/$name/eval_test" "$@"
}

export -f train score
export PY PHOTOS WORK DEVICE
photos=(data=folder data.root="$PHOTOS/train" data.num_workers="$WORKERS" trainer.max_epochs=-1)

step environment 5 bash -c "nvidia-smi; $PY -c 'import torch, torchvision, timm, kornia, hydra, \
pytorch_lightning as pl; print(torch.__version__, torchvision.__version__, timm.__version__, \
kornia.__version__, hydra.__version__, pl.__version__, torch.cuda.is_available())'"
step smoke_gpu 40 train smoke_gpu "${one[@]}" data=synthetic trainer.max_steps="$SMOKE_STEPS" trainer.max_epochs=-1 \
    || { echo "=== the smoke run failed: stopping here"; exit 1; }
step stage1_long 150 train stage1_long "${one[@]}" "${photos[@]}" trainer.max_steps="$STAGE1_STEPS" \
    trainer.check_val_every_n_epoch=10
step stage1_long_eval 30 score stage1_long
step bench 170 "$PY" -m colorgan.bench --no-cpu-training --only loaders,training,inference \
    --workers "$WORKERS" $BENCH_EXTRA --output "$WORK/bench/RESULTS_gpu.md" --json "$WORK/bench/gpu.json"
step stage2_long 150 train stage2_long "${one[@]}" model=gan model.init_from="$WORK/runs/stage1_long" "${photos[@]}" \
    trainer.max_steps="$STAGE2_STEPS" trainer.check_val_every_n_epoch=10
step stage2_long_eval 30 score stage2_long
step ddp_one_gpu 40 train ddp_one_gpu "${ddp[@]}" data=synthetic trainer.max_steps="$SMOKE_STEPS" \
    trainer.max_epochs=-1
step bench_compile 100 "$PY" -m colorgan.bench --no-cpu-training --only training --compile \
    --encoders efficientnet_lite0 --sizes 128 --output "$WORK/bench/RESULTS_gpu_compile.md" \
    --json "$WORK/bench/gpu_compile.json" $BENCH_EXTRA
step stage1_300 40 train stage1_300 "${one[@]}" "${photos[@]}" trainer.max_steps=300
step stage1_300_eval 30 score stage1_300
echo "=== done, $SECONDS s"
