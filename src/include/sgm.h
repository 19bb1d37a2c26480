/* sgm: score-based generative models on PETSc.  Public interface. */
#pragma once

#include <petscts.h>
#include <sgmsys.h>
#include <sgmsde.h>
#include <sgmscore.h>
#include <sgmsampler.h>
#include <sgmnet.h>
