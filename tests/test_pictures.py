"""solutions.pictures: each picture is a valid PNG of sensible size and shows the right thing.

The network comes from a short real training run (2 epochs on 1,000 images of
the bundled sample, well under a second), so predictions include both right
and wrong answers.
"""

import matplotlib.colors
import numpy as np
import pytest
from cli_support import SAMPLE, assert_png, leftover_partial_files
from matplotlib.figure import Figure

from solutions.mnist_data import load_mnist
from solutions.pictures import (
    confusion_matrix,
    figure_format,
    plot_confusion_matrix,
    plot_curves,
    plot_hidden_units,
    plot_prediction_grid,
    save_png,
    show_prediction,
)
from solutions.train_mnist import mini_batch_gradient_descent, plot_history

RED = matplotlib.colors.to_rgba("tab:red")


@pytest.fixture(scope="module")
def trained():
    """(X, Y, params, history): 1,000 sample images and a network trained 2 epochs on them."""
    data = load_mnist("train", SAMPLE)
    X, Y = data.X[:, :1000], data.Y[:1000]
    history = {}
    params = mini_batch_gradient_descent(
        X[:, 200:], Y[200:], 0.1, 2, 32, seed=0, history=history,
        X_dev=X[:, :200], Y_dev=Y[:200], print_every=0,
    )
    return X, Y, params, history


def predict(X, params):
    """Predictions computed here from the maths: argmax of W2 relu(W1 X + b1) + b2."""
    W1, b1, W2, b2 = params
    return np.argmax(W2 @ np.maximum(W1 @ X + b1, 0) + b2, axis=0)


def test_show_prediction_titles_predicted_and_actual(trained, tmp_path):
    X, Y, params, _ = trained
    predictions = predict(X, params)
    right = int(np.flatnonzero(predictions == Y)[0])
    wrong = int(np.flatnonzero(predictions != Y)[0])
    for index in (right, wrong):
        figure = show_prediction(index, X, Y, *params, path=tmp_path / f"{index}.png")
        assert isinstance(figure, Figure)
        axes = figure.axes[0]
        assert axes.get_title() == f"Predicted: {predictions[index]}   Actual: {Y[index]}"
        shown = axes.get_images()[0].get_array()
        np.testing.assert_array_equal(shown, X[:, index].reshape(28, 28))
        is_red = matplotlib.colors.to_rgba(axes.title.get_color()) == RED
        assert is_red == (index == wrong), "a wrong prediction's title is red, a right one's not"
        assert_png(tmp_path / f"{index}.png")


def test_show_prediction_rejects_an_index_out_of_range(trained):
    X, Y, params, _ = trained
    with pytest.raises(IndexError, match="1000"):
        show_prediction(1000, X, Y, *params)


def test_prediction_grid_marks_exactly_the_mistakes(trained, tmp_path):
    X, Y, params, _ = trained
    indices = list(range(40, 70))
    figure = plot_prediction_grid(X, Y, *params, indices=indices, columns=6,
                                  path=tmp_path / "grid.png")
    predictions = predict(X[:, indices], params)
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert len(panels) == len(indices)
    titles = [panel.get_title() for panel in panels]
    assert titles == [f"{p} ({y})" for p, y in zip(predictions, Y[indices])]
    red = [matplotlib.colors.to_rgba(panel.title.get_color()) == RED for panel in panels]
    assert red == list(predictions != Y[indices])
    mistakes = int(np.sum(predictions != Y[indices]))
    assert 0 < mistakes < len(indices), "the run should make some mistakes, not all"
    assert figure._suptitle.get_text().startswith(f"predicted (actual): {mistakes} mistake")
    assert_png(tmp_path / "grid.png", min_side=300)


def test_prediction_grid_defaults_and_bad_arguments(trained):
    X, Y, params, _ = trained
    figure = plot_prediction_grid(X[:, :7], Y[:7], *params)
    assert sum(axes.get_visible() for axes in figure.axes) == 7
    with pytest.raises(ValueError):
        plot_prediction_grid(X, Y, *params, indices=[])
    with pytest.raises(IndexError):
        plot_prediction_grid(X, Y, *params, indices=[0, 5000])


def test_confusion_matrix_counts_by_hand():
    predictions = np.array([0, 1, 1, 2, 9, 9])
    Y = np.array([0, 1, 2, 2, 9, 3])
    expected = np.zeros((10, 10), dtype=int)
    expected[0, 0] = expected[1, 1] = expected[2, 1] = expected[2, 2] = expected[9, 9] = 1
    expected[3, 9] = 1  # a 3 taken for a 9: row = actual, column = predicted
    np.testing.assert_array_equal(confusion_matrix(predictions, Y), expected)


def test_confusion_matrix_picture(trained, tmp_path):
    X, Y, params, _ = trained
    predictions = predict(X, params)
    figure = plot_confusion_matrix(predictions, Y, path=tmp_path / "confusion.png")
    shown = figure.axes[0].get_images()[0].get_array()
    assert shown.sum() == Y.size
    assert np.trace(shown) == np.sum(predictions == Y)
    accuracy = np.mean(predictions == Y)
    assert f"accuracy {accuracy:.1%}" in figure.axes[0].get_title()
    assert_png(tmp_path / "confusion.png", min_side=300)


def test_hidden_units_show_each_row_of_W1(trained, tmp_path):
    _, _, params, _ = trained
    W1 = params[0]
    figure = plot_hidden_units(W1, path=tmp_path / "hidden.png")
    images = [axes.get_images()[0] for axes in figure.axes if axes.get_images()]
    assert len(images) == 10
    for unit, image in enumerate(images):
        np.testing.assert_array_equal(image.get_array(), W1[unit].reshape(28, 28))
        low, high = image.get_clim()
        assert low == -high == -np.abs(W1).max(), "one colour scale, symmetric about 0"
    assert_png(tmp_path / "hidden.png", min_side=300)


def test_hidden_units_for_another_hidden_size():
    W1 = np.random.default_rng(0).normal(size=(7, 784))
    figure = plot_hidden_units(W1)
    assert sum(bool(axes.get_images()) for axes in figure.axes) == 7


def test_training_curves_from_the_run(trained, tmp_path):
    _, _, _, history = trained
    figure = plot_history(history, tmp_path / "curves.png")
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["train", "dev"]
    assert_png(tmp_path / "curves.png", min_side=300)


def test_pictures_need_no_display_and_leave_pyplot_alone(trained, tmp_path):
    import matplotlib.pyplot as pyplot

    X, Y, params, _ = trained
    before = pyplot.get_fignums()
    show_prediction(0, X, Y, *params)
    plot_hidden_units(params[0])
    assert pyplot.get_fignums() == before, "pictures must not create pyplot figures"


def test_without_a_path_nothing_is_written(trained, tmp_path, monkeypatch):
    X, Y, params, _ = trained
    monkeypatch.chdir(tmp_path)
    show_prediction(0, X, Y, *params)
    plot_prediction_grid(X, Y, *params)
    plot_confusion_matrix(predict(X, params), Y)
    plot_hidden_units(params[0])
    assert list(tmp_path.iterdir()) == []


def test_save_png_is_atomic_and_creates_folders(trained, tmp_path):
    X, Y, params, _ = trained
    target = tmp_path / "a" / "b" / "digit.png"
    save_png(show_prediction(0, X, Y, *params), target)
    assert_png(target)
    assert leftover_partial_files(tmp_path) == []


def test_pictures_show_inline_in_a_jupyter_notebook(tmp_path):
    # a real kernel runs a cell whose last value is a picture; its output must be a PNG
    nbformat = pytest.importorskip("nbformat", reason="needs nbformat (pip install -e '.[grader]')")
    nbclient = pytest.importorskip("nbclient", reason="needs nbclient (pip install -e '.[grader]')")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import numpy as np\n"
        "from solutions.pictures import plot_hidden_units\n"
        "plot_hidden_units(np.random.default_rng(0).normal(size=(10, 784)))"
    )]
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = notebook.cells[0].outputs
    results = [output for output in outputs if output.output_type == "execute_result"]
    assert results and "image/png" in results[0]["data"], (
        f"the cell's value should be shown as a PNG, got outputs {outputs}"
    )


def test_confusion_matrix_takes_images_and_network_like_its_siblings(trained):
    """plot_confusion_matrix(X, Y, W1, b1, W2, b2), as show_prediction and plot_prediction_grid;
    the older plot_confusion_matrix(predictions, Y) draws the same matrix."""
    X, Y, params, _ = trained
    new = plot_confusion_matrix(X, Y, *params).axes[0].get_images()[0].get_array()
    old = plot_confusion_matrix(predict(X, params), Y).axes[0].get_images()[0].get_array()
    np.testing.assert_array_equal(new, old)
    np.testing.assert_array_equal(new, confusion_matrix(predict(X, params), Y))
    with pytest.raises(TypeError, match="all four"):
        plot_confusion_matrix(X, Y, params[0])
    with pytest.raises(TypeError, match="needs the network"):
        plot_confusion_matrix(X, Y)


def test_titles_say_which_images_they_show(trained):
    X, Y, params, _ = trained
    grid = plot_prediction_grid(X, Y, *params, indices=range(5, 11), images="official test set")
    assert grid._suptitle.get_text().endswith("official test set, images 5-10")
    matrix = plot_confusion_matrix(X, Y, *params, images="dev set")
    assert matrix.axes[0].get_title().endswith("\ndev set")


def test_curves_count_steps_from_0_as_the_progress_lines_do(trained):
    """"Epoch: 0 ..." is the first point of the curves; two runs share the axes, each its colour."""
    _, _, _, history = trained
    figure = plot_curves({"": history}, step="epoch")
    for axes in figure.axes:
        assert axes.get_xlabel() == "epoch"
        assert [line.get_label() for line in axes.lines] == ["train", "dev"]
        assert list(axes.lines[0].get_xdata()) == list(range(len(history["accuracy"])))
    other = {key: [value * 0.9 for value in values] for key, values in history.items()}
    both = plot_curves({"yours": history, "reference": other}, step="iteration")
    labels = [line.get_label() for line in both.axes[1].lines]
    assert labels == ["yours: train", "yours: dev", "reference: train", "reference: dev"]
    assert both.axes[1].lines[0].get_color() != both.axes[1].lines[2].get_color()
    np.testing.assert_allclose(both.axes[1].lines[2].get_ydata(), other["loss"])


@pytest.mark.parametrize("suffix, signature", [
    (".png", b"\x89PNG"), (".jpg", b"\xff\xd8\xff"), (".JPEG", b"\xff\xd8\xff"), (".svg", b"<?xml"),
    (".pdf", b"%PDF"),
])
def test_a_picture_is_written_in_the_format_its_suffix_names(trained, tmp_path, suffix, signature):
    X, Y, params, _ = trained
    path = tmp_path / f"digit{suffix}"
    show_prediction(0, X, Y, *params, path=path)
    assert path.read_bytes().startswith(signature)
    assert figure_format(path) in ("png", "jpeg", "svg", "pdf")


def test_an_unknown_picture_suffix_is_refused(trained, tmp_path):
    X, Y, params, _ = trained
    for name in ("digit.txt", "digit"):
        with pytest.raises(ValueError, match=r"\.png, \.jpg"):
            show_prediction(0, X, Y, *params, path=tmp_path / name)
    assert list(tmp_path.iterdir()) == []
