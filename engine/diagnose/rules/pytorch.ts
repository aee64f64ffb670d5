import type { Fact, Rule } from '../facts.js';

/**
 * PyTorch and apps on it (diffusers, Lightning, most Python apps). Lines that taught these patterns:
 *   "UserWarning: The operator 'aten::_upsample_bilinear2d_aa.out' is not currently supported on the MPS
 *    backend and will fall back to run on the CPU."                       (roboflow/rf-detr#29; aten/src/ATen/mps/MPSFallback.mm)
 *   "AssertionError: Torch not compiled with CUDA enabled"                 (facebookresearch/detectron2#460, locuslab/TCN#67)
 *   "Is MPS available? False" / "MPS available?: False"                    (pytorch/pytorch#78343, #167679)
 *   "RuntimeError: The MPS backend is supported on MacOS 13.0+."           (pytorch/pytorch#164943)
 *   "GPU available: False, used: False"                                    (pytorch-tabular/pytorch_tabular#3, Lightning)
 *   "using device = cpu" style prints                                      (MCG-NKU/AMT#16)
 */
export function pytorchRule(): Rule {
  return {
    family: 'pytorch',
    scan(line) {
      const facts: Fact[] = [];
      if (/will fall back to run on the CPU/.test(line) && /MPS/.test(line)) {
        const op = /operator '([^']+)'/.exec(line)?.[1];
        facts.push({
          kind: 'partial',
          backend: 'metal',
          line,
          advice: `PyTorch runs ${op ? `the operator ${op}` : 'an operator'} on the CPU because MPS lacks it (PYTORCH_ENABLE_MPS_FALLBACK=1 hides the error): update torch (newer releases add MPS kernels) or use a model/setting that avoids the operator.`,
        });
      }
      if (/Torch not compiled with CUDA enabled/.test(line)) {
        facts.push({ kind: 'cpu', wanted: true, line, advice: 'A CPU-only torch wheel is installed: reinstall torch from the CUDA index (https://download.pytorch.org/whl/cu12x) in the app environment.' });
      }
      if (/MPS[^\n]*?available\??\)?\W*\s*False\b/i.test(line) || /mps\.is_available\(\)\s*(?:==|=|:)?\s*False/.test(line)) {
        facts.push({ kind: 'cpu', wanted: true, line, advice: 'PyTorch cannot use the Apple GPU (MPS not available): use an arm64 (not x86/Rosetta) Python, macOS 14+, and a current torch wheel.' });
      }
      if (/The MPS backend is supported on MacOS/i.test(line)) {
        facts.push({ kind: 'cpu', wanted: true, line, advice: 'PyTorch refuses MPS on this macOS: update macOS or install a torch release that supports it.' });
      }
      if (/cuda\.is_available\(\)\s*(?:==|=|:|->)?\s*False/.test(line) || /CUDA available\??:\s*False/i.test(line) || /Found no NVIDIA driver on your system/.test(line)) {
        facts.push({ kind: 'cpu', wanted: true, line, advice: 'PyTorch cannot reach CUDA: check `nvidia-smi`, the driver version, and that the torch wheel is a CUDA build.' });
      }
      const lightning = /GPU available: (True|False), used: (True|False)/.exec(line);
      if (lightning) {
        if (lightning[2] === 'True') facts.push({ kind: 'gpu-generic', line });
        else facts.push({ kind: 'cpu', wanted: lightning[1] === 'True', line });
      }
      const dev = /\busing device\s*[:=]?\s*'?(cuda|mps|cpu)\b/i.exec(line);
      if (dev) {
        const d = dev[1]?.toLowerCase();
        if (d === 'cuda') facts.push({ kind: 'gpu', backend: 'cuda', line });
        else if (d === 'mps') facts.push({ kind: 'gpu', backend: 'metal', line });
        else facts.push({ kind: 'cpu', wanted: false, line });
      }
      return facts;
    },
  };
}
