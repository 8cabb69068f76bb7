from harness.testing import parametrize_with_checks


@parametrize_with_checks(models="project", explainers=["gradcam", "saliency", "input_x_grad"])
def test_explanations(case, request, harness):
    case.run(request, harness)
