/*
  Training losses of the score network and their exact parameter gradients.

  With s = A x + B F(K x, c) (net.c) and, for a direction v, J_s v = A v + B dF (forward mode,
  mlp.c), the per-sample losses are
    simple  ||eps + sigma s||^2          (= ||eps - eps_theta||^2, eps_theta = -sigma s; Ho et al. 2020)
    dsm     ||s + eps/sigma||^2          (Vincent 2011)
    esm     ||s - s_target||^2
    ssm     mean_k [v_k^T J_s v_k + (v_k^T s)^2/2]      (Song et al. 2019, eq. (7))
    ssmvr   ||s||^2/2 + mean_k v_k^T J_s v_k           (Song et al. 2019, eq. (8))
    ism     tr J_s + ||s||^2/2                         (Hyvarinen 2005), trace from d unit tangents
  each multiplied by w_i and summed.  With -net_precision single (mlp.c) the passes of simple, dsm
  and esm run in float; the loss values formed here from F, and the gradient sum, stay double.  The gradient is reverse mode: the adjoint of F (and of dF for
  the tangent losses) is formed here and SgmNetBackward carries it to theta.  grad NULL: the value
  only (validation).
*/
#include <sgm/private/netimpl.h>

PetscErrorCode SgmNetLoss(SgmNet net, SgmLossType type, PetscInt n, const PetscReal xt[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], const PetscReal eps[], const PetscReal starget[], PetscInt nprobe, const PetscReal probes[], const PetscReal wt[], PetscReal *loss, PetscReal grad[])
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscUseTypeMethod(net, loss, type, n, xt, t, alpha, sigma, labels, eps, starget, nprobe, probes, wt, loss, grad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetLoss_MLP(SgmNet net, SgmLossType type, PetscInt n, const PetscReal xt[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], const PetscReal eps[], const PetscReal starget[], PetscInt nprobe, const PetscReal probes[], const PetscReal wt[], PetscReal *loss, PetscReal grad[])
{
  MPI_Comm       comm;
  const PetscInt d = net->d;
  PetscInt       m = 0, ns;
  PetscReal      total = 0;
  PetscBool      single;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  comm   = PetscObjectComm((PetscObject)net);
  single = (PetscBool)(net->precision == SGM_NET_PRECISION_SINGLE);
  switch (type) {
  case SGM_LOSS_SIMPLE:
  case SGM_LOSS_DSM:
    PetscCheck(eps, comm, PETSC_ERR_ARG_NULL, "The %s loss needs the noise eps", SgmLossTypes[type]);
    break;
  case SGM_LOSS_ESM:
    PetscCheck(starget, comm, PETSC_ERR_ARG_NULL, "The esm loss needs the target score");
    break;
  case SGM_LOSS_SSM:
  case SGM_LOSS_SSMVR:
    PetscCheck(probes && nprobe > 0, comm, PETSC_ERR_ARG_NULL, "The %s loss needs at least one probe vector per sample; got %" PetscInt_FMT, SgmLossTypes[type], nprobe);
    m = nprobe;
    break;
  case SGM_LOSS_ISM:
    m = d;
    break;
  default:
    SETERRQ(comm, PETSC_ERR_ARG_OUTOFRANGE, "Unknown loss type %d", (int)type);
  }
  PetscCheck(!single || !m, comm, PETSC_ERR_SUP, "The %s loss needs forward-mode tangent columns, which -net_precision single does not compute: use -train_loss simple, dsm or esm, or -net_precision double", SgmLossTypes[type]);
  if (single) PetscCall(SgmNetSingleWeights(net));
  PetscCall(SgmNetChunkSize(net, n, m, &ns));
  for (PetscInt i0 = 0; i0 < n; i0 += ns) {
    const PetscInt   nc = PetscMin(ns, n - i0);
    SgmNetWork      *w  = single ? &net->ws.dw : &net->w;
    const PetscReal *v  = (type == SGM_LOSS_SSM || type == SGM_LOSS_SSMVR) ? probes + i0 * m * d : NULL;

    if (single) PetscCall(SgmNetForwardSingle(net, nc, xt + i0 * d, t ? t + i0 : NULL, alpha + i0, sigma + i0, labels ? labels + i0 : NULL));
    else PetscCall(SgmNetForward(net, nc, m, xt + i0 * d, t ? t + i0 : NULL, alpha + i0, sigma + i0, labels ? labels + i0 : NULL, v));
    for (PetscInt i = 0; i < nc; i++) {
      const PetscInt   ig = i0 + i;
      const PetscReal  A = w->A[i], B = w->B[i], wi = wt ? wt[ig] : 1, sg = sigma[ig];
      const PetscReal *x = xt + ig * d, *F = w->Fo + i * d;
      PetscReal       *Fb = w->Fb + i * d, l = 0;

      switch (type) {
      case SGM_LOSS_SIMPLE:
        for (PetscInt j = 0; j < d; j++) {
          const PetscReal r = eps[ig * d + j] + sg * (A * x[j] + B * F[j]);
          l += r * r;
          Fb[j] = 2 * wi * sg * r * B;
        }
        break;
      case SGM_LOSS_DSM:
        for (PetscInt j = 0; j < d; j++) {
          const PetscReal r = A * x[j] + B * F[j] + eps[ig * d + j] / sg;
          l += r * r;
          Fb[j] = 2 * wi * r * B;
        }
        break;
      case SGM_LOSS_ESM:
        for (PetscInt j = 0; j < d; j++) {
          const PetscReal r = A * x[j] + B * F[j] - starget[ig * d + j];
          l += r * r;
          Fb[j] = 2 * wi * r * B;
        }
        break;
      case SGM_LOSS_SSM:
      case SGM_LOSS_SSMVR: {
        const PetscReal wm = wi / m;
        PetscReal       lt = 0;
        if (type == SGM_LOSS_SSMVR)
          for (PetscInt j = 0; j < d; j++) {
            const PetscReal s = A * x[j] + B * F[j];
            l += 0.5 * s * s;
            Fb[j] = wi * s * B;
          }
        else
          for (PetscInt j = 0; j < d; j++) Fb[j] = 0;
        for (PetscInt k = 0; k < m; k++) {
          const PetscInt   c  = nc + i * m + k;
          const PetscReal *vk = v + (i * m + k) * d, *dF = w->Fo + c * d;
          PetscReal       *dFb = w->Fb + c * d, p = 0;
          for (PetscInt j = 0; j < d; j++) {
            lt += vk[j] * (A * vk[j] + B * dF[j]);
            dFb[j] = wm * vk[j] * B;
          }
          if (type == SGM_LOSS_SSM) {
            for (PetscInt j = 0; j < d; j++) p += vk[j] * (A * x[j] + B * F[j]);
            lt += 0.5 * p * p;
            for (PetscInt j = 0; j < d; j++) Fb[j] += wm * p * vk[j] * B;
          }
        }
        l += lt / m;
      } break;
      case SGM_LOSS_ISM:
        for (PetscInt j = 0; j < d; j++) {
          const PetscReal s = A * x[j] + B * F[j];
          l += 0.5 * s * s;
          Fb[j] = wi * s * B;
        }
        for (PetscInt k = 0; k < d; k++) {
          const PetscInt c   = nc + i * d + k;
          PetscReal     *dFb = w->Fb + c * d;
          l += A + B * w->Fo[c * d + k];
          for (PetscInt j = 0; j < d; j++) dFb[j] = 0;
          dFb[k] = wi * B;
        }
        break;
      default:
        break;
      }
      total += wi * l;
    }
    if (grad && single) PetscCall(SgmNetBackwardSingle(net, nc, grad));
    else if (grad) PetscCall(SgmNetBackward(net, nc, m, grad));
  }
  *loss = total;
  PetscFunctionReturn(PETSC_SUCCESS);
}
