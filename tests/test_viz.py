"""The book's figure style, held for every figure function of lenet_course.viz: drawn at most
the page's width (so never shrunk), sharp (2x PNG), no text under 9 pt, shared colour scales."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lenet_course import style, unitpath, viz  # noqa: E402
from lenet_course.classic import LeNet5Classic  # noqa: E402
from lenet_course.models import LeNet5  # noqa: E402
from lenet_course.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def book_style():
    style.use_book_style()
    yield
    plt.close("all")


def digits(n=12):
    return torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8)


def history():
    h = History()
    for epoch in range(3):
        h.train_loss.append(1.0 / (epoch + 1))
        h.val_loss.append(1.1 / (epoch + 1))
        h.train_acc.append(0.9 + 0.02 * epoch)
        h.val_acc.append(0.89 + 0.02 * epoch)
        h.epoch_time_s.append(1.0)
    return h


ANIMATIONS = []  # kept alive while their figures are checked (matplotlib warns otherwise)


def animation_figure():
    ANIMATIONS.append(viz.animate_convolution(torch.randn(12, 12), torch.randn(5, 5), frames=3))
    return ANIMATIONS[-1]._fig


def figures():
    torch.manual_seed(0)
    model = LeNet5().eval()
    x = torch.randn(1, 1, 32, 32)
    labels = torch.arange(12) % 10
    matrix = torch.randint(0, 30, (10, 10))
    return {
        "show_digits": lambda: viz.show_digits(digits(), labels, (labels + 1) % 10, title="digits"),
        "show_digits_labels": lambda: viz.show_digits(digits(20), labels.repeat(2)[:20]),
        "plot_history": lambda: viz.plot_history(history()),
        "show_misclassified": lambda: viz.show_misclassified(model, torch.randn(40, 1, 32, 32),
                                                             torch.arange(40) % 10),
        "show_kernels_c1": lambda: viz.show_kernels(model.c1.weight, "C1"),
        "show_kernels_c3": lambda: viz.show_kernels(model.c3.weight[:3], "C3"),
        "show_feature_maps_c1": lambda: viz.show_feature_maps(model.stages(x)["c1"][0].detach()),
        "show_feature_maps_c3": lambda: viz.show_feature_maps(model.stages(x)["c3"][0].detach()),
        "draw_architecture": lambda: viz.draw_architecture(),
        "draw_architecture_classic": lambda: viz.draw_architecture(LeNet5Classic(), title="LeNet-5 (1998)"),
        "plot_probabilities": lambda: viz.plot_probabilities(torch.softmax(torch.randn(3, 10), 1), digits(3),
                                                             torch.tensor([1, 2, 3])),
        "plot_confusion": lambda: viz.plot_confusion({"LeNet5": matrix, "1998": matrix // 2}),
        "show_bitmaps": lambda: viz.show_bitmaps(LeNet5Classic().output.centres),
        "draw_unit_path": lambda: viz.draw_unit_path(unitpath.unit_path(model, x)),
        "animation": lambda: animation_figure(),
    }


@pytest.mark.parametrize("name", list(figures()))
def test_every_figure_function_meets_the_style(name):
    fig = figures()[name]()
    assert fig.get_size_inches()[0] <= style.MAX_WIDTH
    assert style.style_problems(fig) == [], name
    png, metadata = style.figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert metadata["width"] == width // style.PNG_SCALE <= style.CONTENT_WIDTH_PX  # shown at its drawn size


def test_the_style_sets_sizes_fonts_and_a_colour_blind_palette():
    rc = plt.rcParams
    assert rc["figure.dpi"] == style.SCREEN_DPI and rc["savefig.dpi"] >= 150
    assert rc["figure.figsize"][0] <= style.MAX_WIDTH
    for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize",
                "legend.fontsize"):
        assert float(rc[key]) >= style.MIN_FONT_PT, key
    assert rc["axes.prop_cycle"].by_key()["color"] == style.PALETTE


def test_a_cropped_axis_starts_on_a_step_below_the_lowest_value():
    assert viz.cropped_start([97.3, 99.1], step=1) == 97
    assert viz.cropped_start([97.3, 99.1], step=5, margin=3) == 90
    assert viz.cropped_start([0.9544, 0.99], step=0.1) == 0.9
    assert viz.cropped_start([0.9878], step=0.001, margin=0.001) == 0.986


def test_a_figure_too_wide_or_with_tiny_text_is_caught(monkeypatch):
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.set_title("tiny", fontsize=7)
    problems = style.style_problems(fig)
    assert any("wide" in p for p in problems) and any("'tiny' is 7 pt" in p for p in problems)
    monkeypatch.setenv(style.STRICT_ENV, "1")
    with pytest.raises(style.FigureStyleError, match="figure style"):
        style.figure_png(fig)
    monkeypatch.setenv(style.STRICT_ENV, "0")
    with pytest.warns(style.FigureStyleWarning):
        style.figure_png(fig)


def test_hidden_axes_do_not_count_their_tick_labels():
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.tick_params(labelsize=5)
    ax.axis("off")
    assert style.style_problems(fig) == []
    ax.axis("on")
    assert style.style_problems(fig) != []


def test_feature_maps_share_one_scale_diverging_when_signed():
    maps = torch.randn(6, 8, 8)
    fig = viz.show_feature_maps(maps)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 6 and len({im.get_clim() for im in images}) == 1
    low, high = images[0].get_clim()
    assert low == -high == -float(maps.abs().max()) and images[0].get_cmap().name == style.SIGNED_CMAP
    assert len(fig.axes) == 6 + 1  # six maps and one colour bar
    fig = viz.show_feature_maps(maps.relu())
    low, high = fig.axes[0].get_images()[0].get_clim()
    assert low == 0 and fig.axes[0].get_images()[0].get_cmap().name == style.MAGNITUDE_CMAP


def test_confusion_matrices_share_one_scale():
    a, b = torch.randint(0, 50, (10, 10)), torch.randint(0, 5, (10, 10))
    fig = viz.plot_confusion({"a": a, "b": b})
    clims = {ax.get_images()[0].get_clim() for ax in fig.axes if ax.get_images() and ax.get_label() != "<colorbar>"}
    assert len(clims) == 1


def test_the_architecture_is_labelled_with_window_sizes_and_read_from_the_model():
    texts = [t.get_text() for t in viz.draw_architecture().axes[0].texts]
    assert "5x5\nconv" in texts and "2x2\nmax\npool" in texts and "6@28x28" in texts and "16@5x5" in texts
    assert all(t.get_rotation() == 0 for t in viz.draw_architecture().axes[0].texts)
    classic = [t.get_text() for t in viz.draw_architecture(LeNet5Classic()).axes[0].texts]
    assert "120@1x1" in classic and "RBF" in classic


def test_an_animation_needs_an_alt_text():
    anim = viz.animate_convolution(torch.randn(8, 8), torch.randn(3, 3), frames=2)
    with pytest.raises(ValueError, match="alt"):
        viz.animation_html(anim, alt=" ")
    html = viz.animation_html(anim, alt='A 3x3 window "slides"')
    assert 'alt="A 3x3 window &quot;slides&quot;"' in html and "font-awesome" not in html


def test_the_unit_path_arithmetic_equals_the_network():
    torch.manual_seed(1)
    model = LeNet5().eval()
    x = torch.randn(1, 1, 32, 32)
    path = unitpath.unit_path(model, x)
    with torch.no_grad():
        stages = {name: value[0] for name, value in model.stages(x).items()}
    assert path.c1 == pytest.approx(float(stages["c1"][path.c1_map, path.c1_at[0], path.c1_at[1]]), abs=1e-5)
    assert path.s2 == pytest.approx(float(stages["s2"][path.c1_map, path.s2_at[0], path.s2_at[1]]), abs=1e-5)
    assert path.c3 == pytest.approx(float(stages["c3"][path.c3_map, path.c3_at[0], path.c3_at[1]]), abs=1e-5)
    assert path.s4 == pytest.approx(float(stages["s4"][path.c3_map, path.s4_at[0], path.s4_at[1]]), abs=1e-5)
    assert path.f5 == pytest.approx(float(stages["f5"][path.f5_unit]), abs=1e-4)
    assert path.f6 == pytest.approx(float(stages["f6"][path.f6_unit]), abs=1e-4)
    assert path.logit == pytest.approx(float(stages["output"][path.output_class]), abs=1e-4)
    assert path.output_class == int(stages["output"].argmax())
    # each step follows the input that adds most to the unit above
    assert path.s2 == float(path.s2_window.max()) and path.s4 == float(path.s4_window.max())
    assert path.c3_pre == pytest.approx(float(path.c3_per_input.sum()) + path.c3_bias, abs=1e-6)
    # the path is linked: each layer's largest product comes from the unit picked below it
    assert path.f5_top[0] == pytest.approx(path.s4) and path.f6_top[0] == pytest.approx(path.f5)
    assert path.output_top[0] == pytest.approx(path.f6)
    assert path.runner_up[0] != path.output_class and path.runner_up[1] <= path.logit
    with torch.no_grad():
        products = model.c3.weight[path.c3_map] * stages["s2"][:, path.c3_at[0]:path.c3_at[0] + 5,
                                                               path.c3_at[1]:path.c3_at[1] + 5]
    r, c = path.s2_at[0] - path.c3_at[0], path.s2_at[1] - path.c3_at[1]
    assert float(products[path.c1_map, r, c]) == pytest.approx(float(products.max()))  # the largest of 150
