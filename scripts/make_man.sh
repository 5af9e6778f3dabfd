#!/usr/bin/env bash
# Writes the manual page docs/fovea.1 from the tool's own --help texts (so it lists every command
# and option as the tool has them), with a header and the examples around them.
# usage: scripts/make_man.sh FOVEA > docs/fovea.1      (tests/cli.sh checks the page is current)
set -euo pipefail
fovea=$1
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/" -e 's/-/\\-/g'; }
version=$("$fovea" --version | awk '{print $2}')
cat <<MAN
.TH FOVEA 1 "" "fovea $version" "User Commands"
.SH NAME
fovea \- convolutional neural networks in C: define, train, evaluate, save and look inside
.SH SYNOPSIS
.B fovea
.I COMMAND
.RI [ ARGS ]
.br
.B fovea \-\-version
.SH DESCRIPTION
fovea trains and runs convolutional networks defined in a few lines of text (see models/README.md in
the source), on plain C reference kernels or on oneDNN. Models are saved as .fvm files holding the
architecture, the weights, the optimizer state and the training history. Every command prints one
line on standard error and exits non\-zero when something is wrong.
.PP
Every command takes
.B \-\-threads N
(OpenMP threads; OMP_NUM_THREADS is honoured too) and
.BR \-\-help .
Its options, their ranges and defaults come from the command's option table, as do this page and
the shell completion
.RB ( "fovea completion bash" ).
An option's value may also be given as
.BR \-\-name=value .
MAN
for c in $("$fovea" completion commands) completion; do
  echo ".SH $(echo "$c" | tr a-z A-Z)"
  echo ".nf"
  "$fovea" "$c" --help | esc
  echo ".fi"
done
cat <<'MAN'
.SH EXAMPLES
.nf
fovea train models/mnist\-cnn.fv \-\-data fashion\-mnist \-\-epochs 5 \-\-schedule cosine \-\-out m.fvm
fovea train m.fvm \-\-data fashion\-mnist \-\-epochs 10 \-\-checkpoint\-every 200 \-\-out m.fvm
fovea evaluate m.fvm \-\-data fashion\-mnist \-\-json
fovea predict m.fvm \-\-top 3 shoe.png
fovea saliency m.fvm shoe.png \-\-method smoothgrad \-o maps
fovea gradcam m.fvm shoe.png \-\-colormap jet \-o maps
fovea dream m.fvm \-\-class 9 \-o boot.png
.fi
.SH FILES
.TP
.I *.fv
a model definition (text): one layer per line, "conv2d filters=32 kernel=3 activation=relu".
.TP
.I *.fvm
a saved model: architecture, weights, optimizer state, training history, CRC\-32.
.SH SEE ALSO
The README and docs/ of the source: the layer settings (fovea layers), the architecture, what each
picture of the looking\-inside commands is.
MAN
